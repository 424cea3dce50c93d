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
        if (args.length > 0 && args[0].equals("storage")) {
            // `kiln storage migrate`: a command, not the server.
            System.exit(dev.kiln.asset.StorageCli.run(java.util.Arrays.copyOfRange(args, 1, args.length), System.out));
        }
        // The JDK HTTP server behind the sandbox emulators must not delay small answers (Nagle);
        // the setting is read once, when the first such server starts.
        if (System.getProperty("sun.net.httpserver.nodelay") == null) System.setProperty("sun.net.httpserver.nodelay", "true");
        // Kiln keeps hundreds of connections to a busy emulator alive; the default (200) would close
        // and reopen them all the time.
        if (System.getProperty("sun.net.httpserver.maxIdleConnections") == null) {
            System.setProperty("sun.net.httpserver.maxIdleConnections", "5000");
        }
        SpringApplication.run(KilnApplication.class, args);
    }
}
