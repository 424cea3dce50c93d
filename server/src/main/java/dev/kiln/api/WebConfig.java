package dev.kiln.api;

import dev.kiln.config.KilnProperties;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.ServletInputStream;
import jakarta.servlet.ReadListener;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletRequestWrapper;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.util.List;
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

    /** Refuses request bodies over {@code KILN_MAX_BODY} with 413, by Content-Length or while reading. */
    @Bean
    FilterRegistrationBean<OncePerRequestFilter> bodyLimit(KilnProperties props, JsonMapper json) {
        long max = props.maxBody().toBytes();
        OncePerRequestFilter f = new OncePerRequestFilter() {
            @Override
            protected void doFilterInternal(HttpServletRequest req, HttpServletResponse res, FilterChain chain)
                    throws ServletException, IOException {
                if (req.getContentLengthLong() > max && !isMultipart(req)) {
                    res.setStatus(413);
                    res.setContentType("application/problem+json");
                    res.getWriter().write(json.writeValueAsString(Problem.of(dev.kiln.support.ErrorCode.TOO_LARGE,
                            "the request body is larger than " + max + " bytes (KILN_MAX_BODY)", List.of(), null)));
                    return;
                }
                chain.doFilter(isMultipart(req) ? req : new Limited(req, max), res);
            }
        };
        FilterRegistrationBean<OncePerRequestFilter> reg = new FilterRegistrationBean<>(f);
        reg.setOrder(Ordered.HIGHEST_PRECEDENCE + 10);
        return reg;
    }

    private static boolean isMultipart(HttpServletRequest req) {
        return req.getContentType() != null && req.getContentType().toLowerCase().startsWith("multipart/");
    }

    /** A request whose body stream fails past the limit (bodies sent without a Content-Length). */
    private static final class Limited extends HttpServletRequestWrapper {
        private final long max;
        private ServletInputStream in;

        Limited(HttpServletRequest req, long max) {
            super(req);
            this.max = max;
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
                    if (read > max) throw new dev.kiln.support.KilnException(dev.kiln.support.ErrorCode.TOO_LARGE,
                            "the request body is larger than " + max + " bytes (KILN_MAX_BODY)");
                }
            };
            return in;
        }
    }
}
