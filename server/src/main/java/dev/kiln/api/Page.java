package dev.kiln.api;

import java.util.List;

/** A page of a list: {@code next_cursor} is null on the last page. */
record Page<T>(List<T> items, String nextCursor) {}
