package dev.kiln.support;

import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Set;

/**
 * Kiln's data (database, secret key, stored files) is readable by Kiln's own user only: the data
 * directory is created {@code 0700} and its files {@code 0600}, whatever the process umask. On a
 * file system without POSIX permissions (Windows) nothing is changed.
 */
public final class PrivateFiles {
    private static final boolean POSIX = FileSystems.getDefault().supportedFileAttributeViews().contains("posix");
    private static final Set<PosixFilePermission> DIR = PosixFilePermissions.fromString("rwx------");
    private static final Set<PosixFilePermission> FILE = PosixFilePermissions.fromString("rw-------");

    private PrivateFiles() {}

    /** Creates the directory (and missing parents) as {@code 0700}; one that exists is left as it is. */
    public static Path directory(Path dir) throws IOException {
        if (Files.isDirectory(dir)) return dir;
        if (dir.getParent() != null) Files.createDirectories(dir.getParent());
        try {
            if (POSIX) Files.createDirectory(dir, PosixFilePermissions.asFileAttribute(DIR));
            else Files.createDirectory(dir);
        } catch (FileAlreadyExistsException e) {
            if (!Files.isDirectory(dir)) throw e;
        }
        return dir;
    }

    /** Creates a new, empty file that is {@code 0600} from its first moment (no window with wider rights). */
    public static Path createFile(Path file) throws IOException {
        FileAttribute<?>[] attrs = POSIX ? new FileAttribute<?>[] {PosixFilePermissions.asFileAttribute(FILE)} : new FileAttribute<?>[0];
        return Files.createFile(file, attrs);
    }

    /** Makes an existing file {@code 0600}; a missing one is ignored. */
    public static void restrict(Path file) throws IOException {
        if (POSIX && Files.exists(file)) Files.setPosixFilePermissions(file, FILE);
    }
}
