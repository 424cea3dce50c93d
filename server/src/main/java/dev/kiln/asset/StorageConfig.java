package dev.kiln.asset;

import dev.kiln.asset.storage.BlobStore;
import dev.kiln.asset.storage.StorageProperties;
import dev.kiln.asset.storage.local.LocalBlobStore;
import dev.kiln.asset.storage.s3.S3BlobStore;
import dev.kiln.config.KilnProperties;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.jdbc.core.simple.JdbcClient;

/**
 * The storage backend (KILN_STORAGE): a local folder, or an S3-compatible bucket. A local folder
 * must be the same for every instance sharing the database: each folder carries an identity
 * ({@value #MARKER}) that the database records, and an instance whose folder is another one
 * refuses to start instead of storing assets that the other instances cannot serve.
 */
@Configuration(proxyBeanMethods = false)
@EnableConfigurationProperties(StorageProperties.class)
class StorageConfig {
    private static final Logger log = LoggerFactory.getLogger(StorageConfig.class);
    static final String MARKER = ".kiln-store";

    @Bean
    BlobStore blobStore(StorageProperties storage, KilnProperties props, JdbcClient jdbc) {
        BlobStore store = switch (storage.type()) {
            case LOCAL -> {
                LocalBlobStore local = new LocalBlobStore(props.dataDir());
                checkIdentity(local.root().resolve("assets"), new StorageSettings(jdbc));
                yield local;
            }
            case S3 -> {
                S3BlobStore s3 = new S3BlobStore(storage.s3());
                try {
                    s3.checkBucket();
                } catch (IllegalStateException e) {
                    s3.close();
                    throw new StorageConfigException(e.getMessage(),
                            "Create the bucket, or set KILN_S3_BUCKET (and KILN_S3_ENDPOINT) to an existing one.");
                }
                yield s3;
            }
        };
        log.info("Assets are stored in the {}{}", store.describe(),
                storage.quota() == null ? "" : ", quota " + StorageFullException.size(storage.quotaBytes()));
        return store;
    }

    /**
     * The folder's identity ({@value #MARKER}, created with the folder) must be the one the
     * database recorded first; the database keeps where that folder was, for the message.
     */
    static void checkIdentity(Path assets, StorageSettings settings) {
        Path marker = assets.resolve(MARKER);
        String here = readOrCreateMarker(marker);
        String recorded = settings.getOrCreate("local_store", () -> here + " " + assets + " on " + host());
        String recordedId = recorded.split(" ", 2)[0];
        if (!recordedId.equals(here)) {
            String where = recorded.contains(" ") ? recorded.split(" ", 2)[1] : "another folder";
            throw new StorageConfigException(
                    "KILN_STORAGE=local, but the assets of this database are kept in another folder: " + where
                            + " (store " + recordedId + "); this instance's folder " + assets + " is store " + here
                            + ". Assets stored here could not be served by the other instances, nor theirs by this one.",
                    "Give every instance that shares the database the same KILN_DATA_DIR (a shared folder), or use "
                            + "KILN_STORAGE=s3. If this folder replaces the old one, copy " + MARKER + " from the old "
                            + "folder's assets/ into " + assets + ".");
        }
    }

    private static String readOrCreateMarker(Path marker) {
        try {
            if (!Files.exists(marker)) {
                Path tmp = Files.createTempFile(marker.getParent(), MARKER, ".part");
                Files.writeString(tmp, UUID.randomUUID() + "\n", StandardCharsets.UTF_8);
                try {
                    // Without REPLACE_EXISTING: of two instances creating it at once, the first wins.
                    Files.move(tmp, marker);
                } catch (FileAlreadyExistsException raced) {
                    Files.deleteIfExists(tmp);
                }
            }
            return Files.readString(marker, StandardCharsets.UTF_8).strip();
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot read or create the asset folder's identity " + marker, e);
        }
    }

    private static String host() {
        try {
            return InetAddress.getLocalHost().getHostName();
        } catch (IOException e) {
            return "an unknown host";
        }
    }
}
