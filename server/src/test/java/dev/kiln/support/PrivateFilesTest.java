package dev.kiln.support;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import dev.kiln.config.KilnProperties;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The data directory is created 0700 and Kiln's files 0600, whatever the umask (here usually 022). */
class PrivateFilesTest {
    @TempDir Path tmp;

    @Test
    void directoriesAre0700AndFiles0600() throws Exception {
        Path dir = PrivateFiles.directory(tmp.resolve("a/b/data"));
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(dir))).isEqualTo("rwx------");
        Path f = PrivateFiles.createFile(dir.resolve("secret.key"));
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(f))).isEqualTo("rw-------");

        Path loose = Files.writeString(dir.resolve("loose"), "x");
        Files.setPosixFilePermissions(loose, PosixFilePermissions.fromString("rw-r--r--"));
        PrivateFiles.restrict(loose);
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(loose))).isEqualTo("rw-------");
        PrivateFiles.restrict(dir.resolve("missing"));
        assertThat(PrivateFiles.directory(dir)).isEqualTo(dir);
    }

    @Test
    void aGeneratedSecretKeyAndItsNewDataDirectoryAreOwnerOnly() throws Exception {
        Path data = tmp.resolve("fresh/data");
        new SecretBox(new KilnProperties(data, null, null, null, null, null, null, 0, false, null, 0, null, null, null, null, null, null));
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(data))).isEqualTo("rwx------");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(data.resolve("secret.key")))).isEqualTo("rw-------");
    }
}
