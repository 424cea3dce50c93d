package dev.kiln.api;

import dev.kiln.config.KilnProperties;
import dev.kiln.config.LimitsProperties;
import dev.kiln.support.ErrorCode;
import dev.kiln.support.KilnException;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ReadListener;
import jakarta.servlet.ServletException;
import jakarta.servlet.ServletInputStream;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletRequestWrapper;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.util.List;
import org.apache.catalina.Valve;
import org.apache.catalina.core.StandardHost;
import org.apache.catalina.valves.ErrorReportValve;
import org.springframework.boot.tomcat.servlet.TomcatServletWebServerFactory;
import org.springframework.boot.web.server.WebServerFactoryCustomizer;
import org.springframework.boot.web.servlet.FilterRegistrationBean;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.Ordered;
import org.springframework.web.filter.OncePerRequestFilter;
import org.springframework.web.method.support.HandlerMethodArgumentResolver;
import org.springframework.web.servlet.config.annotation.WebMvcConfigurer;
import tools.jackson.databind.json.JsonMapper;

@Configuration(proxyBeanMethods = false)
class WebConfig implements WebMvcConfigurer {
    private final CallerResolver callers;

    WebConfig(CallerResolver callers) {
        this.callers = callers;
    }

    @Override
    public void addArgumentResolvers(List<HandlerMethodArgumentResolver> resolvers) {
        resolvers.add(callers);
    }

    /**
     * Refuses a malformed query string before anything decodes it: 400 for broken
     * percent-encoding, 422 for NUL in a value (see {@link QueryStrings}).
     */
    @Bean
    FilterRegistrationBean<OncePerRequestFilter> queryCheck(JsonMapper json) {
        OncePerRequestFilter f = new OncePerRequestFilter() {
            @Override
            protected void doFilterInternal(HttpServletRequest req, HttpServletResponse res, FilterChain chain)
                    throws ServletException, IOException {
                QueryStrings.Refusal r = QueryStrings.check(req.getQueryString());
                if (r != null) {
                    ProblemHandler.write(res, json, r.code(), r.detail(), r.errors());
                    return;
                }
                chain.doFilter(req, res);
            }
        };
        FilterRegistrationBean<OncePerRequestFilter> reg = new FilterRegistrationBean<>(f);
        reg.setOrder(Ordered.HIGHEST_PRECEDENCE + 5);
        return reg;
    }

    /**
     * Refuses request bodies over {@code KILN_MAX_BODY} with 413, by Content-Length or while
     * reading. Provider webhooks get {@code KILN_WEBHOOK_MAX_BODY} instead, enforced while reading
     * only: their controller checks the job token first, and reads nothing for a wrong one.
     */
    @Bean
    FilterRegistrationBean<OncePerRequestFilter> bodyLimit(KilnProperties props, LimitsProperties limits, JsonMapper json) {
        long max = props.maxBody().toBytes();
        long webhookMax = limits.webhookMaxBody().toBytes();
        OncePerRequestFilter f = new OncePerRequestFilter() {
            @Override
            protected void doFilterInternal(HttpServletRequest req, HttpServletResponse res, FilterChain chain)
                    throws ServletException, IOException {
                if (WebhookController.isWebhook(req)) {
                    chain.doFilter(new Limited(req, webhookMax, "KILN_WEBHOOK_MAX_BODY"), res);
                    return;
                }
                if (req.getContentLengthLong() > max && !isMultipart(req)) {
                    ProblemHandler.write(res, json, ErrorCode.TOO_LARGE, "the request body is larger than " + max + " bytes (KILN_MAX_BODY)",
                            List.of());
                    return;
                }
                chain.doFilter(isMultipart(req) ? req : new Limited(req, max, "KILN_MAX_BODY"), res);
            }
        };
        FilterRegistrationBean<OncePerRequestFilter> reg = new FilterRegistrationBean<>(f);
        reg.setOrder(Ordered.HIGHEST_PRECEDENCE + 10);
        return reg;
    }

    /**
     * Requests Tomcat refuses before any servlet runs get problem+json too: its stock error valve
     * (HTML) is replaced on the host by {@link ProblemErrorValve}. Runs after Spring Boot's own
     * customizer, which installs the stock one.
     */
    @Bean
    WebServerFactoryCustomizer<TomcatServletWebServerFactory> problemErrorValve(JsonMapper json) {
        return new WebServerFactoryCustomizer<>() {
            @Override
            public void customize(TomcatServletWebServerFactory factory) {
                factory.addContextCustomizers(context -> {
                    // Without this the host would add a stock valve of its own next to ours at start.
                    if (context.getParent() instanceof StandardHost host) host.setErrorReportValveClass("");
                    var pipeline = context.getParent().getPipeline();
                    for (Valve v : pipeline.getValves()) {
                        if (v instanceof ErrorReportValve && !(v instanceof ProblemErrorValve)) pipeline.removeValve(v);
                    }
                    pipeline.addValve(new ProblemErrorValve(json));
                });
            }
        };
    }

    private static boolean isMultipart(HttpServletRequest req) {
        return req.getContentType() != null && req.getContentType().toLowerCase().startsWith("multipart/");
    }

    /** A request whose body stream fails past the limit (bodies sent without a Content-Length). */
    private static final class Limited extends HttpServletRequestWrapper {
        private final long max;
        private final String setting;
        private ServletInputStream in;

        Limited(HttpServletRequest req, long max, String setting) {
            super(req);
            this.max = max;
            this.setting = setting;
        }

        @Override
        public ServletInputStream getInputStream() throws IOException {
            if (in != null) return in;
            ServletInputStream raw = super.getInputStream();
            in = new ServletInputStream() {
                long read;

                @Override public boolean isFinished() { return raw.isFinished(); }
                @Override public boolean isReady() { return raw.isReady(); }
                @Override public void setReadListener(ReadListener l) { raw.setReadListener(l); }

                @Override
                public int read() throws IOException {
                    int b = raw.read();
                    if (b >= 0) count(1);
                    return b;
                }

                @Override
                public int read(byte[] b, int off, int len) throws IOException {
                    int n = raw.read(b, off, len);
                    if (n > 0) count(n);
                    return n;
                }

                private void count(long n) {
                    read += n;
                    if (read > max) throw new KilnException(ErrorCode.TOO_LARGE, "the request body is larger than " + max + " bytes (" + setting + ")");
                }
            };
            return in;
        }
    }
}
