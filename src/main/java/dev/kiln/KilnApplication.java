package dev.kiln;

import dev.kiln.config.KilnProperties;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.scheduling.annotation.EnableScheduling;

/** Kiln: a self-hosted gateway for batch AI image and video generation. */
@SpringBootApplication
@EnableScheduling
@EnableConfigurationProperties(KilnProperties.class)
public class KilnApplication {

    public static void main(String[] args) {
        SpringApplication.run(KilnApplication.class, args);
    }
}
