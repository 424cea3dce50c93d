package dev.kiln.catalog;

import java.util.Map;
import java.util.Set;

/**
 * The providers a binding may name, as the catalogue checks them: their ids, and whether a binding
 * of each must name a remote model (not where the input is the whole job, as a ComfyUI workflow).
 * Kiln's provider registry answers this from the providers' descriptors, so the catalogue keeps no
 * list of its own.
 */
public interface BindingTargets {

    /** Every provider id a binding may name. */
    Set<String> providerIds();

    /** Whether a binding of this provider must name a remote model. */
    boolean needsRemote(String provider);

    /** For reading model files without the providers at hand (tests of the file format): any provider, remote optional. */
    BindingTargets UNCHECKED = new BindingTargets() {
        @Override
        public Set<String> providerIds() {
            return null;
        }

        @Override
        public boolean needsRemote(String provider) {
            return false;
        }
    };

    /** Targets from a map of provider id → whether its bindings need a remote model. */
    static BindingTargets of(Map<String, Boolean> needsRemote) {
        Map<String, Boolean> copy = Map.copyOf(needsRemote);
        return new BindingTargets() {
            @Override
            public Set<String> providerIds() {
                return copy.keySet();
            }

            @Override
            public boolean needsRemote(String provider) {
                return copy.getOrDefault(provider, true);
            }
        };
    }
}
