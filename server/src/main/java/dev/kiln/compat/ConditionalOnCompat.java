package dev.kiln.compat;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import java.util.Map;
import org.springframework.context.annotation.Condition;
import org.springframework.context.annotation.ConditionContext;
import org.springframework.context.annotation.Conditional;
import org.springframework.core.type.AnnotatedTypeMetadata;

/**
 * Registers a bean (a façade's controllers and services) only while {@code KILN_COMPAT} serves
 * the façade {@link #value()}; switched off, its routes answer 404 like any unknown path.
 */
@Retention(RetentionPolicy.RUNTIME)
@Target({ElementType.TYPE, ElementType.METHOD})
@Documented
@Conditional(ConditionalOnCompat.OnCompat.class)
public @interface ConditionalOnCompat {
    /** The façade id, e.g. {@code "000"}. */
    String value();

    final class OnCompat implements Condition {
        @Override
        public boolean matches(ConditionContext context, AnnotatedTypeMetadata metadata) {
            Map<String, Object> a = metadata.getAnnotationAttributes(ConditionalOnCompat.class.getName());
            return a != null && CompatProperties.from(context.getEnvironment()).on((String) a.get("value"));
        }
    }
}
