package dev.kiln.asset;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Instant;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Input images handed to providers by URL carry a time-limited signature instead of credentials. */
class SignedUrlTest {
    @Test
    void aSignatureIsValidForItsAssetUntilItExpires(@TempDir Path dir) {
        AssetService s = TestAssets.local(AssetServiceTest.props(dir, "https://kiln.example.com", false),
                dev.kiln.testing.TestDatabases.h2());
        long exp = Instant.now().plusSeconds(60).getEpochSecond();
        String sig = s.sign("ast_1", exp);
        assertThat(s.verifySignature("ast_1", exp, sig)).isTrue();
        assertThat(s.verifySignature("ast_2", exp, sig)).as("another asset").isFalse();
        assertThat(s.verifySignature("ast_1", exp + 1, sig)).as("another expiry").isFalse();
        assertThat(s.verifySignature("ast_1", exp, sig + "x")).isFalse();
        long past = Instant.now().minusSeconds(1).getEpochSecond();
        assertThat(s.verifySignature("ast_1", past, s.sign("ast_1", past))).as("expired").isFalse();
        assertThat(s.verifySignature("ast_1", null, sig)).isFalse();
    }
}
