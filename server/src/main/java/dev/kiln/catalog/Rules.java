package dev.kiln.catalog;

import java.util.Map;
import org.springframework.expression.Expression;
import org.springframework.expression.spel.standard.SpelExpressionParser;
import org.springframework.expression.spel.support.SimpleEvaluationContext;

/**
 * Evaluates cost and ETA rules with Spring's expression language, in a read-only context that
 * can reach nothing but the variables given: the job's parameters.
 */
public final class Rules {
    private static final SpelExpressionParser PARSER = new SpelExpressionParser();

    private Rules() {}

    public static Expression parse(String expression) {
        return PARSER.parseExpression(expression);
    }

    /** Any value of an expression over these variables (for derived binding values). */
    public static Object value(String expression, Map<String, Object> values) {
        var ctx = SimpleEvaluationContext.forReadOnlyDataBinding().build();
        values.forEach((k, v) -> ctx.setVariable(k.replace('-', '_'), v));
        return parse(expression).getValue(ctx);
    }

    /** The rule's value for these parameters; never negative. */
    public static double evaluate(Rule rule, Map<String, Object> values) {
        if (rule == null || rule.expression() == null) return 0;
        var ctx = SimpleEvaluationContext.forReadOnlyDataBinding().build();
        values.forEach((k, v) -> ctx.setVariable(k.replace('-', '_'), v instanceof Number n && !(v instanceof Double) ? n.doubleValue() : v));
        Object result = parse(rule.expression()).getValue(ctx);
        if (!(result instanceof Number n)) {
            throw new IllegalArgumentException("rule '" + rule.expression() + "' gave " + result + ", not a number");
        }
        double d = n.doubleValue();
        return Double.isFinite(d) && d > 0 ? d : 0;
    }
}
