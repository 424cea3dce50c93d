package dev.kiln.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.springframework.boot.context.properties.bind.Bindable;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.boot.context.properties.source.MapConfigurationPropertySource;
import org.springframework.core.convert.support.DefaultConversionService;

/** Every configured duration accepts decimals (KILN_SANDBOX_LATENCY=0.5s stopped Kiln at start), or says which forms work. */
class DurationsTest {

    @Test
    void decimalsWithEveryUnit() {
        assertThat(Durations.parse("0.5s")).isEqualTo(Duration.ofMillis(500));
        assertThat(Durations.parse("1.5m")).isEqualTo(Duration.ofSeconds(90));
        assertThat(Durations.parse("2.25h")).isEqualTo(Duration.ofMinutes(135));
        assertThat(Durations.parse("0.5d")).isEqualTo(Duration.ofHours(12));
        assertThat(Durations.parse("1.5ms")).isEqualTo(Duration.ofNanos(1_500_000));
        assertThat(Durations.parse(".25s")).isEqualTo(Duration.ofMillis(250));
        assertThat(Durations.parse(" 2 s ")).isEqualTo(Duration.ofSeconds(2));
        assertThat(Durations.parse("2S")).isEqualTo(Duration.ofSeconds(2));
    }

    @Test
    void theFormsSpringAlreadyReadStillWork() {
        assertThat(Durations.parse("20m")).isEqualTo(Duration.ofMinutes(20));
        assertThat(Durations.parse("300ms")).isEqualTo(Duration.ofMillis(300));
        assertThat(Durations.parse("250")).as("a bare number is milliseconds, as in Spring").isEqualTo(Duration.ofMillis(250));
        assertThat(Durations.parse("0")).isEqualTo(Duration.ZERO);
        assertThat(Durations.parse("PT0.5S")).isEqualTo(Duration.ofMillis(500));
        assertThat(Durations.parse("P1DT2H")).isEqualTo(Duration.ofHours(26));
    }

    @Test
    void anythingElseSaysWhichFormsWork() {
        for (String bad : new String[] {"", "abc", "5 minutes", "1,5s", "1.2.3s", "s", "PTxS", "1e3s"}) {
            assertThatThrownBy(() -> Durations.parse(bad)).as(bad).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("is not a duration").hasMessageContaining("0.5s").hasMessageContaining("PT0.5S");
        }
        assertThatThrownBy(() -> Durations.parse("-PT1S")).hasMessageContaining("negative");
        assertThatThrownBy(() -> Durations.parse("-1s")).hasMessageContaining("is not a duration");
    }

    /** The converter Kiln registers for configuration binding is the one that reads them. */
    @Test
    void configurationBindingUsesIt() {
        DefaultConversionService conversions = new DefaultConversionService();
        conversions.addConverter(String.class, Duration.class, BindingConfig.decimalDurations());
        Binder binder = new Binder(List.of(new MapConfigurationPropertySource(Map.of("kiln.limits.event-idle-timeout", "1.5s",
                "kiln.retention.interval", "0.5h"))), null, conversions);
        assertThat(binder.bind("kiln.limits", Bindable.of(LimitsProperties.class)).get().eventIdleTimeout()).isEqualTo(Duration.ofMillis(1500));
        assertThat(binder.bind("kiln.retention", Bindable.of(RetentionProperties.class)).get().interval()).isEqualTo(Duration.ofMinutes(30));
    }
}
