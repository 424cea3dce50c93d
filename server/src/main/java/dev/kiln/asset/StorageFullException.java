package dev.kiln.asset;

import dev.kiln.support.ErrorCode;
import dev.kiln.support.KilnException;
import java.util.List;

/**
 * Storing more would pass the storage quota (KILN_STORAGE_QUOTA): the API answers 507
 * {@code storage_full}; nothing of what was being stored was written.
 */
public class StorageFullException extends KilnException {

    StorageFullException(long quota, long used, long adding) {
        super(ErrorCode.STORAGE_FULL, "the storage quota of " + size(quota) + " is reached ("
                        + size(used) + " used" + (adding > 0 ? ", " + size(adding) + " more needed" : "")
                        + ")", List.of(), null,
                "Delete jobs or assets you no longer need, or raise KILN_STORAGE_QUOTA.");
    }

    /** "512 bytes", "1.5 KB", "20 MB", "1.2 GB": binary units, one decimal when not whole. */
    static String size(long bytes) {
        String[] units = {"KB", "MB", "GB", "TB"};
        if (bytes < 1024) return bytes + " bytes";
        double v = bytes;
        int u = -1;
        while (v >= 1024 && u < units.length - 1) {
            v /= 1024;
            u++;
        }
        return (v == Math.rint(v) ? String.valueOf((long) v) : String.format(java.util.Locale.ROOT, "%.1f", v)) + " " + units[u];
    }
}
