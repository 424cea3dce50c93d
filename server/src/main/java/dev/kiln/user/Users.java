package dev.kiln.user;

import dev.kiln.credit.Ledger;
import dev.kiln.support.FieldError;
import dev.kiln.support.Ids;
import dev.kiln.support.KilnException;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;
import org.springframework.dao.DuplicateKeyException;
import org.springframework.security.crypto.factory.PasswordEncoderFactories;
import org.springframework.security.crypto.password.PasswordEncoder;
import org.springframework.stereotype.Service;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * Users: created by an admin (username and password) or by their first Telegram login, each with
 * an account of {@code KILN_START_CREDITS} credits. Passwords are kept as bcrypt hashes by Spring
 * Security's delegating encoder (the stored hash names its algorithm, so it can be upgraded).
 */
@Service
public class Users {
    /** The user behind {@code x-admin-key}: it owns what the admin key creates and its admin sessions. */
    public static final String KEY_ADMIN_ID = "usr_admin";
    private static final Pattern USERNAME = Pattern.compile("[a-z0-9][a-z0-9_.-]{2,63}");
    /** bcrypt reads at most 72 bytes of a password; a longer one would be cut silently, so it is refused. */
    static final int MAX_PASSWORD_BYTES = 72;
    static final int MIN_PASSWORD_CHARS = 8;

    private final UserStore store;
    private final Ledger ledger;
    private final AuthProperties props;
    private final Clock clock;
    private final TransactionTemplate tx;
    private final PasswordEncoder encoder = PasswordEncoderFactories.createDelegatingPasswordEncoder();
    /** Compared against when a username is unknown, so that the answer takes as long as for a wrong password. */
    private final String decoy;

    Users(UserStore store, Ledger ledger, AuthProperties props, Clock clock, TransactionTemplate tx) {
        this.store = store;
        this.ledger = ledger;
        this.props = props;
        this.clock = clock;
        this.tx = tx;
        this.decoy = encoder.encode(Ids.secretToken());
    }

    /**
     * Creates a user with a password.
     *
     * @param credits null for {@code KILN_START_CREDITS}
     * @throws KilnException 422 listing every bad field, 409 if the username is taken
     */
    public User create(String username, String password, String role, BigDecimal credits) {
        List<FieldError> errors = new ArrayList<>();
        String name = username == null ? null : username.trim().toLowerCase(java.util.Locale.ROOT);
        if (name == null || name.isEmpty()) errors.add(new FieldError("username", "is required"));
        else if (!USERNAME.matcher(name).matches()) {
            errors.add(new FieldError("username", "must be 3 to 64 letters, digits, '_', '.' or '-', starting with a letter or digit"));
        } else if (name.startsWith("tg_") || name.equals("admin") || name.equals("local")) {
            errors.add(new FieldError("username", "'" + name + "' is reserved"));
        }
        if (password == null || password.isEmpty()) errors.add(new FieldError("password", "is required"));
        else if (password.length() < MIN_PASSWORD_CHARS) errors.add(new FieldError("password", "must be at least " + MIN_PASSWORD_CHARS + " characters"));
        else if (password.getBytes(StandardCharsets.UTF_8).length > MAX_PASSWORD_BYTES) {
            errors.add(new FieldError("password", "must be at most " + MAX_PASSWORD_BYTES + " bytes in UTF-8"));
        }
        String r = role == null ? User.USER : role;
        if (!r.equals(User.USER) && !r.equals(User.ADMIN)) errors.add(new FieldError("role", "must be user or admin"));
        if (credits != null && (credits.signum() < 0 || credits.scale() > 4 || credits.compareTo(BigDecimal.valueOf(1_000_000_000)) > 0)) {
            errors.add(new FieldError("credits", "must be a number from 0 to 1000000000 with at most 4 decimals"));
        }
        if (!errors.isEmpty()) throw KilnException.validation(errors);
        User u = new User(Ids.newId("usr"), name, r, null, null, null, true, clock.instant());
        String hash = encoder.encode(password);
        try {
            tx.executeWithoutResult(s -> {
                store.insert(u, hash);
                ledger.open(u.id(), credits == null ? props.startCredits() : credits, "start credits");
            });
        } catch (DuplicateKeyException e) {
            throw KilnException.conflict("the username '" + name + "' is taken");
        }
        return u;
    }

    /**
     * The user with this username and password, or empty. Unknown users and users without a
     * password cost one hash comparison like a wrong password, so timing tells nothing either.
     */
    public Optional<User> authenticate(String username, String password) {
        String name = username == null ? "" : username.trim().toLowerCase(java.util.Locale.ROOT);
        String pw = password == null ? "" : password;
        Optional<UserStore.WithHash> found = name.isEmpty() ? Optional.empty() : store.findByUsername(name);
        String hash = found.map(UserStore.WithHash::passwordHash).orElse(null);
        boolean ok;
        try {
            ok = encoder.matches(pw, hash == null ? decoy : hash) && hash != null;
        } catch (IllegalArgumentException tooLong) {
            ok = false;
        }
        return ok ? found.map(UserStore.WithHash::user) : Optional.empty();
    }

    /** The user of a verified Telegram identity, created (with start credits) at its first login. */
    public User telegram(TelegramLogin.Identity id) {
        String display = id.displayName();
        Optional<User> existing = store.findByTelegramId(id.telegramId());
        if (existing.isPresent()) {
            User u = existing.get();
            if (!java.util.Objects.equals(u.telegramUsername(), id.username()) || !java.util.Objects.equals(u.displayName(), display)) {
                store.updateTelegramProfile(u.id(), id.username(), display);
            }
            return store.find(u.id()).orElseThrow();
        }
        User u = new User(Ids.newId("usr"), "tg_" + id.telegramId(), User.USER, id.telegramId(), id.username(), display, false,
                clock.instant());
        try {
            tx.executeWithoutResult(s -> {
                store.insert(u, null);
                ledger.open(u.id(), props.startCredits(), "start credits");
            });
            return u;
        } catch (DuplicateKeyException raced) {
            // Two first logins at once: the other one created the user.
            return store.findByTelegramId(id.telegramId()).orElseThrow(() -> raced);
        }
    }

    /** The user behind the admin key, made on first use. */
    public User keyAdmin() {
        Optional<User> u = store.find(KEY_ADMIN_ID);
        if (u.isPresent()) return u.get();
        User admin = new User(KEY_ADMIN_ID, "admin", User.ADMIN, null, null, "holder of KILN_ADMIN_KEY", false, clock.instant());
        try {
            tx.executeWithoutResult(s -> {
                store.insert(admin, null);
                ledger.open(admin.id(), props.startCredits(), "start credits");
            });
        } catch (DuplicateKeyException raced) {
            // Another request or instance made it first.
        }
        return store.find(KEY_ADMIN_ID).orElseThrow();
    }

    public Optional<User> find(String id) {
        return store.find(id);
    }

    public List<User> list(String before, int limit) {
        return store.list(before, limit);
    }
}
