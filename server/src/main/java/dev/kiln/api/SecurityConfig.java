package dev.kiln.api;

import dev.kiln.support.ErrorCode;
import dev.kiln.support.Ids;
import dev.kiln.user.AuthProperties;
import dev.kiln.user.Caller;
import dev.kiln.user.Identity;
import jakarta.servlet.DispatcherType;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.util.List;
import java.util.Set;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpMethod;
import org.springframework.security.authentication.AbstractAuthenticationToken;
import org.springframework.security.config.annotation.web.builders.HttpSecurity;
import org.springframework.security.config.annotation.web.configuration.EnableWebSecurity;
import org.springframework.security.config.annotation.web.configurers.AbstractHttpConfigurer;
import org.springframework.security.config.http.SessionCreationPolicy;
import org.springframework.security.core.authority.AuthorityUtils;
import org.springframework.security.core.context.SecurityContextHolder;
import org.springframework.security.core.context.SecurityContextImpl;
import org.springframework.security.web.SecurityFilterChain;
import org.springframework.security.web.context.RequestAttributeSecurityContextRepository;
import org.springframework.security.web.csrf.CsrfException;
import org.springframework.security.web.csrf.CsrfFilter;
import org.springframework.security.web.csrf.CsrfToken;
import org.springframework.security.web.csrf.CsrfTokenRepository;
import org.springframework.security.web.csrf.CsrfTokenRequestAttributeHandler;
import org.springframework.security.web.csrf.DefaultCsrfToken;
import org.springframework.web.cors.CorsConfiguration;
import org.springframework.web.cors.UrlBasedCorsConfigurationSource;
import org.springframework.web.filter.OncePerRequestFilter;
import tools.jackson.databind.json.JsonMapper;

/**
 * Spring Security, set up for an API: no HTTP session, no login page. One filter asks
 * {@link Identity} who is calling and puts the answer in the security context (roles
 * {@code ROLE_USER}/{@code ROLE_ADMIN}) and in the request for {@link CallerResolver}. Then:
 * <ul>
 *   <li>routes: the catalogue, login, webhooks, health, docs and asset bytes (signed URLs) are
 *       open; {@code /v1/admin/**}, the webhook secret and {@code /metrics} need an admin; the
 *       rest of {@code /v1} needs a caller; every controller that takes a {@code Caller} needs one
 *       too, wherever it lives;</li>
 *   <li>CSRF: a write authenticated by the session cookie must carry that session's token in
 *       {@code X-CSRF-Token} (Spring Security's {@link CsrfFilter}, the token stored with the
 *       session); headers and keys cannot be sent by another site's page, so they need none;</li>
 *   <li>CORS: off unless {@code KILN_CORS_ORIGINS} lists origins, which are then allowed with
 *       credentials.</li>
 * </ul>
 * Every refusal is the API's problem+json.
 */
@Configuration(proxyBeanMethods = false)
@EnableWebSecurity
class SecurityConfig {
    static final String CSRF_HEADER = "X-CSRF-Token";
    static final String CSRF_ATTRIBUTE = "dev.kiln.csrf";
    private static final Set<String> SAFE = Set.of("GET", "HEAD", "OPTIONS", "TRACE");
    /**
     * Logins need no CSRF token even when an old session cookie comes along (they replace it):
     * they take only application/json, which another site's page cannot send without a CORS
     * preflight that Kiln refuses.
     */
    private static final Set<String> LOGIN = Set.of("/v1/auth/login", "/v1/auth/telegram", "/api/auth/telegram");

    @Bean
    SecurityFilterChain api(HttpSecurity http, Identity identity, AuthProperties props, JsonMapper json) throws Exception {
        http.sessionManagement(s -> s.sessionCreationPolicy(SessionCreationPolicy.STATELESS))
                .securityContext(c -> c.securityContextRepository(new RequestAttributeSecurityContextRepository()))
                .requestCache(AbstractHttpConfigurer::disable)
                .httpBasic(AbstractHttpConfigurer::disable)
                .formLogin(AbstractHttpConfigurer::disable)
                .logout(AbstractHttpConfigurer::disable)
                .csrf(c -> c.csrfTokenRepository(new SessionCsrfTokens())
                        .csrfTokenRequestHandler(new CsrfTokenRequestAttributeHandler())
                        .requireCsrfProtectionMatcher(req -> !SAFE.contains(req.getMethod()) && req.getAttribute(CSRF_ATTRIBUTE) != null
                                && !LOGIN.contains(req.getRequestURI())))
                .addFilterBefore(new CallerFilter(identity, json), CsrfFilter.class)
                .authorizeHttpRequests(a -> a
                        // The second dispatch of an SSE stream or an error page: the first one was checked.
                        .dispatcherTypeMatchers(DispatcherType.ASYNC, DispatcherType.ERROR).permitAll()
                        .requestMatchers(HttpMethod.OPTIONS).permitAll()
                        .requestMatchers("/v1/admin/**", "/v1/webhook-secret", "/metrics").hasRole("ADMIN")
                        .requestMatchers(HttpMethod.GET, "/v1/models", "/v1/models/**").permitAll()
                        .requestMatchers(HttpMethod.POST, "/v1/auth/login", "/v1/auth/telegram", "/v1/auth/logout").permitAll()
                        // Asset bytes also answer signed URLs without a caller; the controller asks for one otherwise.
                        .requestMatchers(HttpMethod.GET, "/v1/assets/*").permitAll()
                        // Seed .base: its model list, its Telegram login and Replicate's webhook (signed, no token in the URL).
                        .requestMatchers(HttpMethod.GET, "/api/models/list").permitAll()
                        .requestMatchers(HttpMethod.POST, "/api/auth/telegram", "/api/webhook/replicate").permitAll()
                        .requestMatchers("/v1/**").authenticated()
                        .anyRequest().permitAll())
                .exceptionHandling(e -> e
                        .authenticationEntryPoint((req, res, ex) -> {
                            Object problem = req.getAttribute(CallerResolver.PROBLEM);
                            res.setHeader(HttpHeaders.WWW_AUTHENTICATE, "Bearer");
                            write(res, json, ErrorCode.UNAUTHORIZED, problem != null ? problem.toString() : CallerResolver.REQUIRED);
                        })
                        .accessDeniedHandler((req, res, ex) -> write(res, json, ErrorCode.FORBIDDEN, ex instanceof CsrfException
                                ? "this write was authenticated by the session cookie, so it must carry the session's CSRF token in the "
                                        + CSRF_HEADER + " header (returned at login and by GET /v1/me)"
                                : "only an admin may do this")));
        if (props.corsOrigins().isEmpty()) {
            http.cors(AbstractHttpConfigurer::disable);
        } else {
            CorsConfiguration cors = new CorsConfiguration();
            cors.setAllowedOrigins(props.corsOrigins());
            cors.setAllowCredentials(true);
            cors.setAllowedMethods(List.of("GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"));
            // x-admin-key: a seed's admin page on another origin logs in with it (MediaGen's POST /admin/session).
            cors.setAllowedHeaders(List.of("Content-Type", "Authorization", "X-API-Key", "x-admin-key", CSRF_HEADER, "Idempotency-Key",
                    "Last-Event-ID"));
            cors.setExposedHeaders(List.of("Retry-After", "Location", "Idempotent-Replayed"));
            cors.setMaxAge(600L);
            UrlBasedCorsConfigurationSource source = new UrlBasedCorsConfigurationSource();
            source.registerCorsConfiguration("/**", cors);
            http.cors(c -> c.configurationSource(source));
        }
        return http.build();
    }

    /** Puts the caller {@link Identity} finds into the security context and the request. */
    private static final class CallerFilter extends OncePerRequestFilter {
        private final Identity identity;
        private final JsonMapper json;

        CallerFilter(Identity identity, JsonMapper json) {
            this.identity = identity;
            this.json = json;
        }

        @Override
        protected void doFilterInternal(HttpServletRequest req, HttpServletResponse res, FilterChain chain)
                throws ServletException, IOException {
            switch (identity.resolve(req)) {
                case Identity.Known k -> {
                    req.setAttribute(CallerResolver.ATTRIBUTE, k.caller());
                    if (k.csrfToken() != null) req.setAttribute(CSRF_ATTRIBUTE, k.csrfToken());
                    var ctx = new SecurityContextImpl(new CallerAuthentication(k.caller()));
                    SecurityContextHolder.getContextHolderStrategy().setContext(ctx);
                }
                case Identity.Anonymous a -> {
                    if (a.problem() != null) req.setAttribute(CallerResolver.PROBLEM, a.problem());
                }
                case Identity.Foreign f -> {
                    if (!reachableFromOutside(req)) {
                        write(res, json, ErrorCode.FORBIDDEN, f.problem());
                        return;
                    }
                }
            }
            chain.doFilter(req, res);
        }

        /**
         * What a local-mode Kiln answers whatever the Host: the routes providers call through
         * {@code PUBLIC_BASE_URL} (webhooks, signed input URLs), which carry their own proof and
         * give no admin rights.
         */
        private static boolean reachableFromOutside(HttpServletRequest req) {
            String path = req.getRequestURI();
            // Seed .base's Replicate webhook has no token in its URL: the signature is its proof.
            if (path.startsWith("/webhooks/") || ("POST".equals(req.getMethod()) && path.equals("/api/webhook/replicate"))) return true;
            return ("GET".equals(req.getMethod()) || "HEAD".equals(req.getMethod()))
                    && path.matches("/v1/assets/[^/]+") && req.getParameter("sig") != null;
        }
    }

    /** An authenticated {@link Caller} as Spring Security sees it. */
    static final class CallerAuthentication extends AbstractAuthenticationToken {
        private final Caller caller;

        CallerAuthentication(Caller caller) {
            super(AuthorityUtils.createAuthorityList(caller.isAdmin() ? new String[] {"ROLE_ADMIN", "ROLE_USER"} : new String[] {"ROLE_USER"}));
            this.caller = caller;
            setAuthenticated(true);
        }

        @Override public Object getCredentials() { return null; }
        @Override public Object getPrincipal() { return caller; }
    }

    /**
     * CSRF tokens kept with the session (synchronizer token pattern): the token of the session the
     * cookie names, put in the request by {@link CallerFilter}. Requests without a session cookie
     * need no token, so the one generated for them is never compared.
     */
    private static final class SessionCsrfTokens implements CsrfTokenRepository {
        @Override
        public CsrfToken generateToken(HttpServletRequest req) {
            return new DefaultCsrfToken(CSRF_HEADER, "_csrf", Ids.secretToken());
        }

        @Override
        public void saveToken(CsrfToken token, HttpServletRequest req, HttpServletResponse res) {
            // Stored with the session when it is opened.
        }

        @Override
        public CsrfToken loadToken(HttpServletRequest req) {
            Object t = req.getAttribute(CSRF_ATTRIBUTE);
            return t == null ? null : new DefaultCsrfToken(CSRF_HEADER, "_csrf", t.toString());
        }
    }

    private static void write(HttpServletResponse res, JsonMapper json, ErrorCode code, String detail) throws IOException {
        res.setStatus(code.status());
        res.setContentType("application/problem+json");
        res.setCharacterEncoding("UTF-8");
        res.getWriter().write(json.writeValueAsString(Problem.of(code, detail, List.of(), null)));
    }
}
