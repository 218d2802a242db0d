// A valid shared module that is not a Retort plugin.
extern "C" __attribute__((visibility("default"))) int retort_test_not_a_plugin() { return 42; }
