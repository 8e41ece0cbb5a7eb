/*
 * What the C test programs share: CHECK records a failed check and goes on; must() stops
 * the program when a call fails, printing the engine's last error; expect_error() checks a
 * call that must fail. Each program is one translation unit, so the failure count lives
 * here.
 */
#ifndef INTEGRA_TEST_CHECK_H
#define INTEGRA_TEST_CHECK_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "integra.h"

static int failures = 0;

#define CHECK(cond, ...)                                           \
    do {                                                           \
        if (!(cond)) {                                             \
            fprintf(stderr, "FAILED %s:%d: ", __FILE__, __LINE__); \
            fprintf(stderr, __VA_ARGS__);                          \
            fprintf(stderr, "\n");                                 \
            failures++;                                            \
        }                                                          \
    } while (0)

/* Calls must succeed; on failure, prints the engine's last error and stops. */
static void must(integra_engine *engine, integra_status status, const char *what) {
    if (status != INTEGRA_STATUS_OK) {
        char *error = integra_engine_last_error(engine);
        fprintf(stderr, "%s failed with status %d: %s\n", what, (int)status, error);
        integra_string_free(error);
        exit(2);
    }
}

/* The call returned `want`, and the engine's last error contains `expected`. */
static inline void expect_error(integra_engine *engine, integra_status got, integra_status want,
                                const char *expected) {
    char *error = integra_engine_last_error(engine);
    CHECK(got == want, "status %d, expected %d (%s)", (int)got, (int)want, error);
    CHECK(strstr(error, expected) != NULL, "last error \"%s\" lacks \"%s\"", error, expected);
    integra_string_free(error);
}

#endif /* INTEGRA_TEST_CHECK_H */
