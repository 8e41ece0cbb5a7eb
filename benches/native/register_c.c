/*
 * Goal G12 through the C ABI: the latency of one integra_engine_register_message call as a
 * C caller sees it. Opens an engine on a fresh database with a pass-through flow (the
 * source is the payload; no dispatcher runs, so nothing is sent), registers a ~1 KB 1C
 * order `warmup` times untimed, then `calls` times, each call timed alone with
 * clock_gettime(CLOCK_MONOTONIC) (freeing the returned id is outside the timed region).
 *
 * Usage: register_c <database path> <calls> <warmup calls>
 * Prints one line of JSON: {"calls": N, "p50_us": x, "p99_us": y, "max_us": z,
 * "per_second": w}, per_second being calls / the sum of the timed call times. Percentiles
 * are nearest-rank. Exits 2 when a call fails (the engine's last error on stderr), 1 on
 * bad usage or when memory runs out.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "integra.h"
#include "order.h"

/* A non-negative count from the command line; exits on anything else. */
static size_t count(const char *text, const char *what) {
    char *end = NULL;
    errno = 0;
    unsigned long long n = strtoull(text, &end, 10);
    if (errno != 0 || end == text || *end != '\0' || text[0] == '-' || n > SIZE_MAX / 2) {
        fprintf(stderr, "register_c: %s must be a whole number, got \"%s\"\n", what, text);
        exit(1);
    }
    return (size_t)n;
}

/* `text` as the inside of a JSON string: quotes, backslashes and control characters escaped. */
static char *json_escaped(const char *text) {
    size_t length = strlen(text);
    char *out = malloc(length * 6 + 1);
    if (out == NULL) {
        return NULL;
    }
    char *p = out;
    for (const unsigned char *c = (const unsigned char *)text; *c != '\0'; c++) {
        if (*c == '"' || *c == '\\') {
            *p++ = '\\';
            *p++ = (char)*c;
        } else if (*c < 0x20) {
            p += sprintf(p, "\\u%04x", (unsigned)*c);
        } else {
            *p++ = (char)*c;
        }
    }
    *p = '\0';
    return out;
}

/* Prints the engine's last error after `what` returned `status`, and exits 2. */
static void fail(integra_engine *engine, integra_status status, const char *what) {
    char *error = integra_engine_last_error(engine);
    fprintf(stderr, "register_c: %s failed with status %d: %s\n", what, (int)status,
            error != NULL ? error : "(no error text)");
    integra_string_free(error);
    integra_engine_free(engine);
    exit(2);
}

static int64_t nanoseconds(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

static int by_value(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* The nearest-rank percentile `percent` (1..100) of `n` sorted samples, in microseconds:
 * the sample at rank ceil(percent / 100 * n). */
static double percentile_us(const int64_t *sorted, size_t n, size_t percent) {
    size_t rank = (n * percent + 99) / 100;
    if (rank < 1) {
        rank = 1;
    }
    return (double)sorted[rank - 1] / 1000.0;
}

int main(int argc, char **argv) {
    if (argc != 4) {
        fprintf(stderr, "usage: %s <database path> <calls> <warmup calls>\n", argv[0]);
        return 1;
    }
    size_t calls = count(argv[2], "calls"), warmup = count(argv[3], "warmup calls");
    if (calls == 0) {
        fprintf(stderr, "register_c: calls must be at least 1\n");
        return 1;
    }
    char *database = json_escaped(argv[1]);
    int64_t *samples = malloc(calls * sizeof *samples);
    size_t settings_size = (database != NULL ? strlen(database) : 0) + 1024;
    char *settings = malloc(settings_size);
    if (database == NULL || samples == NULL || settings == NULL) {
        fprintf(stderr, "register_c: out of memory\n");
        return 1;
    }
    snprintf(settings, settings_size,
             "{\"database\": \"%s\", \"config\": {"
             "\"endpoints\": [{\"code\": \"shop\", \"base_url\": \"http://127.0.0.1:9\"}],"
             " \"subscribers\": [{\"code\": \"shop\", \"kind\": \"http\", \"endpoint\": \"shop\","
             " \"http\": {\"path\": \"/orders\"}}],"
             " \"flows\": [{\"code\": \"ORDERS\", \"direction\": \"outgoing\","
             " \"subscribers\": [\"shop\"]}]}}",
             database);
    free(database);

    integra_engine *engine = integra_engine_new();
    if (engine == NULL) {
        fprintf(stderr, "register_c: integra_engine_new returned NULL\n");
        return 1;
    }
    integra_status status = integra_engine_open(engine, settings);
    free(settings);
    if (status != INTEGRA_STATUS_OK) {
        fail(engine, status, "integra_engine_open");
    }

    for (size_t i = 0; i < warmup + calls; i++) {
        char *id = NULL;
        int64_t start = nanoseconds();
        status = integra_engine_register_message(engine, "ORDERS", ORDER, false, NULL, &id);
        int64_t end = nanoseconds();
        if (status != INTEGRA_STATUS_OK) {
            fail(engine, status, "integra_engine_register_message");
        }
        if (id == NULL || strlen(id) != 36) {
            fprintf(stderr, "register_c: call %zu returned the id \"%s\", not 36 characters\n",
                    i, id != NULL ? id : "(NULL)");
            integra_string_free(id);
            integra_engine_free(engine);
            return 2;
        }
        integra_string_free(id);
        if (i >= warmup) {
            samples[i - warmup] = end - start;
        }
    }
    integra_engine_free(engine);

    int64_t total = 0;
    for (size_t i = 0; i < calls; i++) {
        total += samples[i];
    }
    qsort(samples, calls, sizeof *samples, by_value);
    double seconds = (double)total / 1e9;
    printf("{\"calls\": %zu, \"p50_us\": %.3f, \"p99_us\": %.3f, \"max_us\": %.3f, "
           "\"per_second\": %.1f}\n",
           calls, percentile_us(samples, calls, 50), percentile_us(samples, calls, 99),
           (double)samples[calls - 1] / 1000.0, seconds > 0 ? (double)calls / seconds : 0.0);
    free(samples);
    return 0;
}
