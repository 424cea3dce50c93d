package dev.kiln.catalog;

import com.fasterxml.jackson.annotation.JsonValue;

/** The JSON type a parameter takes. */
public enum ParamType {
    INTEGER, NUMBER, STRING, BOOLEAN, OBJECT;

    @JsonValue
    public String wire() { return name().toLowerCase(); }

    public static ParamType of(String s) {
        return valueOf(s.trim().toUpperCase());
    }
}
