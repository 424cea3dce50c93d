package dev.kiln.compat;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class CompatPropertiesTest {
    @Test
    void allNoneAndLists() {
        assertThat(CompatProperties.parse(null).enabled()).containsExactlyInAnyOrderElementsOf(CompatProperties.KNOWN);
        assertThat(CompatProperties.parse(" ALL ").enabled()).containsExactlyInAnyOrderElementsOf(CompatProperties.KNOWN);
        assertThat(CompatProperties.parse("none").enabled()).isEmpty();
        CompatProperties some = CompatProperties.parse("000, 003");
        assertThat(some.on("000")).isTrue();
        assertThat(some.on("003")).isTrue();
        assertThat(some.on("001")).isFalse();
    }

    @Test
    void anUnknownIdStopsKilnWithTheKnownOnes() {
        assertThatThrownBy(() -> CompatProperties.parse("000,005")).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("'005'").hasMessageContaining("000,001,002,003,004");
    }
}
