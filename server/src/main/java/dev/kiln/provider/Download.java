package dev.kiln.provider;

import java.io.IOException;
import java.io.InputStream;

/** An open output stream from a provider; the caller closes it. */
public record Download(InputStream body, String contentType, long contentLength) implements AutoCloseable {
    @Override
    public void close() throws IOException {
        body.close();
    }
}
