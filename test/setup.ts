// Mocha root setup: every fast-check property runs from one fixed seed, so a test run is reproducible and
// CI never flakes on a counterexample it did not find before. KAFKASIM_FC_SEED explores other seeds.
import fc from "fast-check";

const seed = Number(process.env.KAFKASIM_FC_SEED ?? 20261125);
fc.configureGlobal({ ...fc.readConfigureGlobal(), seed });
