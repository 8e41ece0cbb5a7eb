/*
 * The fixed half of the C ABI sweep. tests/it/c_abi.rs reads include/integra.h and
 * generates the other half: `sweep()`, which calls every function the header declares with
 * valid arguments, with each pointer NULL, with bad text and numbers, and on engines that are
 * live, never opened, closed and NULL; and `declared()`, which knows every integra_status the
 * header declares. This half holds the engines those calls run on and the checks each call
 * must pass. It is compiled with AddressSanitizer and UBSan.
 *
 * Usage: sweep <database file>. Prints "sweep passed: <n> calls" when every check held.
 */
#ifndef INTEGRA_TEST_SWEEP_H
#define INTEGRA_TEST_SWEEP_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "integra.h"

/* Defined by the generated half. */
static bool declared(int status);
static void sweep(void);

/* The engine a call runs on. */
enum fixture { LIVE, NEVER_OPENED, CLOSED, ABSENT };

/* A call may return any declared status but INTEGRA_STATUS_PANIC. */
#define ANY (-1)

/* What an out-parameter holds until the library writes it. */
#define UNWRITTEN 0xA5

/* Not UTF-8; not JSON; JSON nested deeper than any parser's stack (filled in by main). */
static const char NOT_UTF8[] = "\xff\xfe{}";
static const char NOT_JSON[] = "{oops";
static char DEEP[100001];

/* The open settings of every live engine: a temporary database with one outgoing flow. */
static char settings[4096];
/* The live engine, opened again before each call on it (a call may have closed it). */
static integra_engine *live;
static int calls = 0;

static integra_engine *engine_for(enum fixture fixture) {
    integra_engine *engine = NULL;
    switch (fixture) {
    case LIVE:
        must(live, integra_engine_open(live, settings), "opening the live engine again");
        return live;
    case NEVER_OPENED:
        return integra_engine_new();
    case CLOSED:
        engine = integra_engine_new();
        must(engine, integra_engine_open(engine, settings), "open");
        must(engine, integra_engine_close(engine), "close");
        return engine;
    case ABSENT:
        return NULL;
    }
    return NULL;
}

/* Frees an engine from engine_for (the live one lives on). */
static void release(integra_engine *engine) {
    if (engine != live) integra_engine_free(engine);
}

/* A call that returned `status` on `engine` (NULL when it had none): a status the header
 * declares, not a panic, `expected` unless that is ANY, and a last error after a failure. */
static void check_status(const integra_engine *engine, integra_status status, int expected,
                         const char *call) {
    calls++;
    CHECK(declared((int)status), "%s returned %d, which integra_status does not declare", call,
          (int)status);
    CHECK(status != INTEGRA_STATUS_PANIC, "%s panicked", call);
    CHECK(expected == ANY || (int)status == expected, "%s returned %d, expected %d", call,
          (int)status, expected);
    if (status != INTEGRA_STATUS_OK && engine != NULL) {
        char *error = integra_engine_last_error(engine);
        CHECK(error != NULL && error[0] != '\0', "%s failed (%d) without a last error", call,
              (int)status);
        integra_string_free(error);
    }
}

/* A call that returned a pointer: NULL exactly when `null_expected`. */
static void check_pointer(const void *result, bool null_expected, const char *call) {
    calls++;
    CHECK((result == NULL) == null_expected, "%s returned %s", call,
          result == NULL ? "NULL" : "a pointer where NULL was due");
}

/* An out-string after a call: written on success, still NULL on failure. Frees it. */
static void check_out_string(integra_status status, char *out, const char *call) {
    if (status == INTEGRA_STATUS_OK) {
        CHECK(out != NULL, "%s succeeded without writing its out-string", call);
    } else {
        CHECK(out == NULL, "%s failed (%d) and wrote its out-string", call, (int)status);
    }
    integra_string_free(out);
}

/* Any other out-parameter (`size` bytes at `out`, filled with UNWRITTEN before the call):
 * written on success, untouched on failure. */
static void check_out_value(integra_status status, const void *out, size_t size, const char *call) {
    const unsigned char *bytes = out;
    bool untouched = true;
    for (size_t i = 0; i < size; i++) untouched = untouched && bytes[i] == UNWRITTEN;
    if (status == INTEGRA_STATUS_OK) {
        CHECK(!untouched, "%s succeeded without writing its out-parameter", call);
    } else {
        CHECK(untouched, "%s failed (%d) and wrote its out-parameter", call, (int)status);
    }
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: %s <database>\n", argv[0]);
        return 2;
    }
    snprintf(settings, sizeof settings,
             "{\"database\": \"%s\", \"config\": {\"flows\": [{\"code\": \"x\","
             " \"direction\": \"outgoing\", \"former\": \"external\"}]}}",
             argv[1]);
    memset(DEEP, '[', sizeof DEEP - 1);
    /* A second handle keeps the engine up while a call has closed the live one. */
    integra_engine *anchor = integra_engine_new();
    must(anchor, integra_engine_open(anchor, settings), "open");
    live = integra_engine_new();
    sweep();
    integra_engine_free(live);
    integra_engine_free(anchor);
    printf("sweep %s: %d calls\n", failures == 0 ? "passed" : "failed", calls);
    return failures == 0 ? 0 : 1;
}

#endif /* INTEGRA_TEST_SWEEP_H */
