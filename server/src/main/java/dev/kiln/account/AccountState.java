package dev.kiln.account;

/**
 * The health of a provider account: {@code pending → checking → ready | failed},
 * {@code ready → checking}, {@code failed → checking}, any → {@code disabled},
 * {@code disabled → checking}. An account is {@code ready} only after a passing check: there is
 * no way from {@code failed} to {@code ready} but through {@code checking}.
 */
public enum AccountState {
    PENDING, CHECKING, READY, FAILED, DISABLED;

    public boolean canBecome(AccountState to) {
        if (to == DISABLED) return this != DISABLED;
        return switch (this) {
            case PENDING, READY, FAILED, DISABLED -> to == CHECKING;
            case CHECKING -> to == READY || to == FAILED;
        };
    }

    public String wire() {
        return name().toLowerCase();
    }

    public static AccountState of(String wire) {
        return valueOf(wire.toUpperCase());
    }
}
