package dev.kiln.asset.storage;

import java.io.IOException;
import java.io.UncheckedIOException;

/**
 * The storage backend could not do what was asked (the disk failed, the bucket did not answer or
 * refused): a passing condition to retry later, never the client's fault. It is an
 * {@link UncheckedIOException}, which the job engine already treats as "try the fetch again".
 */
public class StorageUnavailableException extends UncheckedIOException {

    public StorageUnavailableException(String message, Throwable cause) {
        super(message, cause instanceof IOException io ? io : new IOException(cause == null ? message : cause.toString(), cause));
    }
}
