package dev.kiln.account;

import dev.kiln.catalog.Binding;
import dev.kiln.catalog.Model;
import dev.kiln.catalog.Templates;
import dev.kiln.provider.Shortfall;
import dev.kiln.provider.Work;
import dev.kiln.support.FieldError;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.springframework.stereotype.Component;
import tools.jackson.databind.JsonNode;

/**
 * Which accounts can run a job: those of its bindings' providers that lack nothing its work needs
 * (a ComfyUI workflow's node classes and model files, a RunPod worker's video outputs), as each
 * provider judges from the account's settings and the capabilities its health checks found
 * ({@link AccountCapabilities}). An account whose capabilities are unknown (never checked, or a
 * provider that cannot say) is taken to be able: the provider's own refusal then fails the job,
 * naming what is missing. The dispatcher sends a job only to an account that fits; a job no
 * account can run is refused at submission ({@link #refusal}) and, if it got in while that was
 * not known yet, failed at dispatch ({@link #unrunnable}).
 */
@Component
public class Eligibility {
    /** Field errors a refusal lists at most, so that a 1,000-node workflow does not make a 1 MB answer. */
    static final int MAX_ERRORS = 20;
    private static final Pattern WHOLE_PARAMETER = Pattern.compile("\\$\\{([A-Za-z0-9_]+)}");

    private final AccountCapabilities capabilities;

    Eligibility(AccountCapabilities capabilities) {
        this.capabilities = capabilities;
    }

    /**
     * The work a job sends on one of its model's bindings: the binding's input for the mode, filled
     * with the job's values and the binding's derived ones (input images left out: they are
     * uploaded under names of their own and need nothing of the account).
     *
     * @param values what the job's templates see: its params, {@code prompt}, {@code negative_prompt}, {@code mode}, {@code model}
     */
    public static Work work(Model m, Binding b, String mode, Map<String, Object> values) {
        return new Work(m.id(), mode, m.kind(), () -> {
            try {
                return Templates.render(b.inputFor(mode), b.values(values), Map.<String, List<Object>>of(), x -> null);
            } catch (RuntimeException e) {
                // A derived value that cannot be computed fails the job at submit, with its own
                // message; here it only means nothing can be judged (and must not stop a dispatch round).
                return null;
            }
        });
    }

    /** Whether an account lacks nothing this work needs. */
    public Predicate<Account> fits(Work work) {
        return a -> capabilities.shortfalls(a, work).isEmpty();
    }

    /** One account that cannot run the work, and why. */
    public record Unfit(Account account, int binding, Shortfall shortfall) {}

    /**
     * Why no account of the model's bindings (from {@code fromBinding} on) can run this job: every
     * account that may serve a binding (see {@link AccountPool.Cycle#candidates}) has a shortfall.
     * Empty when some account can or may, and when no binding has any account at all (that is a
     * missing configuration, refused elsewhere).
     */
    public List<Unfit> unrunnable(Model m, int fromBinding, String mode, Map<String, Object> values, AccountPool.Cycle cycle) {
        List<Unfit> out = new ArrayList<>();
        for (int b = fromBinding; b < m.bindings().size(); b++) {
            Binding binding = m.bindings().get(b);
            Work work = work(m, binding, mode, values);
            for (Account a : cycle.candidates(binding.provider())) {
                List<Shortfall> s = capabilities.shortfalls(a, work);
                if (s.isEmpty()) return List.of();
                for (Shortfall x : s) out.add(new Unfit(a, b, x));
            }
        }
        return out;
    }

    /**
     * The field errors of a submission no account can run, or an empty list. A binding whose input
     * is one parameter ({@code "${workflow}"}, a client's own graph) names the field inside it
     * ({@code params.workflow.4.inputs.ckpt_name}); a catalogue workflow is the model's, so its
     * errors are on {@code model}, naming the node.
     */
    public List<FieldError> refusal(Model m, String mode, Map<String, Object> values, AccountPool.Cycle cycle) {
        List<Unfit> why = unrunnable(m, 0, mode, values, cycle);
        List<FieldError> out = new ArrayList<>();
        Map<String, Boolean> seen = new LinkedHashMap<>();
        for (Unfit u : why) {
            Binding b = m.bindings().get(u.binding());
            String param = wholeParameter(b.inputFor(mode));
            String path = u.shortfall().path();
            String where = u.account().provider() + " account '" + u.account().label() + "'";
            FieldError e = param != null
                    ? new FieldError("params." + param + (path.isEmpty() ? "" : "." + path), u.shortfall().message() + " on " + where)
                    : new FieldError("model", m.id() + " cannot run on " + where + ": " + (path.isEmpty() ? "" : "workflow " + path + ": ")
                            + u.shortfall().message());
            if (seen.putIfAbsent(e.field() + "\u0000" + e.message(), true) != null) continue;
            if (out.size() == MAX_ERRORS) {
                out.add(new FieldError("model", "and more: only the first " + MAX_ERRORS + " of " + why.size()
                        + " things the accounts lack are listed"));
                break;
            }
            out.add(e);
        }
        return out;
    }

    /** The parameter a template consists of alone ({@code "${workflow}"}), or null. */
    static String wholeParameter(JsonNode template) {
        if (template == null || !template.isString()) return null;
        Matcher m = WHOLE_PARAMETER.matcher(template.asString().trim());
        return m.matches() ? m.group(1) : null;
    }
}
