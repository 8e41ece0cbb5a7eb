/*
 * The C library's log, as a C program sees it (issue 15): the open settings name a log
 * file, and what Integra does in the background (here: deliveries that fail or end dead)
 * shows there. `tests/it/c_abi.rs` reads the files this program leaves behind.
 *
 * Usage:
 *   log events <dir> <subscriber URL> <level> <max_bytes> <keep> <messages>
 *     opens <dir>/integra.db with the log <dir>/integra.log, registers <messages> messages
 *     for two subscribers at the URL (nothing listens there): `once` gives up after one
 *     attempt (a warning), `again` retries later (a debug line). Prints the first id.
 *   log refusals <dir> <subscriber URL>
 *     bad log settings are refused naming the setting, and nothing is opened then; handles
 *     share the process's one log and a handle asking for another is refused while it is in
 *     use (<dir>/shared.log, then <dir>/next.log).
 * Exits 0 when every check passed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "check.h"
#include "integra.h"

/* The open settings: a database in `dir`, the configuration with the two subscribers at
 * `url`, and `log` (JSON, or NULL for none). */
static void settings(char *out, size_t size, const char *dir, const char *database,
                     const char *url, const char *log) {
    snprintf(out, size,
             "{\"database\": \"%s/%s\",%s%s%s \"config\": {"
             "\"endpoints\": [{\"code\": \"nowhere\", \"base_url\": \"%s\", \"connect_timeout\": \"1s\"}],"
             "\"subscribers\": ["
             " {\"code\": \"once\", \"kind\": \"http\", \"endpoint\": \"nowhere\", \"retry\": {\"max_attempts\": 1}},"
             " {\"code\": \"again\", \"kind\": \"http\", \"endpoint\": \"nowhere\", \"retry\": {\"max_attempts\": 5}}],"
             "\"flows\": [{\"code\": \"ORDERS\", \"direction\": \"outgoing\", \"subscribers\": [\"once\", \"again\"]}]}}",
             dir, database, log ? " \"log\": " : "", log ? log : "", log ? "," : "", url);
}

static int exists(const char *dir, const char *name) {
    char path[2048];
    struct stat st;
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return stat(path, &st) == 0;
}

static int events(const char *dir, const char *url, const char *level, const char *max_bytes,
                  const char *keep, int messages) {
    char log[2048], open[8192];
    snprintf(log, sizeof log,
             "{\"file\": \"%s/integra.log\", \"level\": \"%s\", \"max_bytes\": %s, \"keep\": %s}",
             dir, level, max_bytes, keep);
    settings(open, sizeof open, dir, "integra.db", url, log);
    integra_engine *engine = integra_engine_new();
    must(engine, integra_engine_open(engine, open), "open");
    char *first = NULL;
    for (int i = 0; i < messages; i++) {
        char *id = NULL;
        must(engine, integra_engine_register_message(engine, "ORDERS", "{\"n\": 1}", true, NULL, &id),
             "register");
        if (first == NULL) {
            first = id;
        } else {
            integra_string_free(id);
        }
    }
    char *report = NULL;
    must(engine, integra_engine_dispatch(engine, 100000, 60000, &report), "dispatch");
    char expected[64];
    snprintf(expected, sizeof expected, "\"dead\":%d", messages);
    CHECK(strstr(report, expected) != NULL, "dispatch report: %s", report);
    integra_string_free(report);
    printf("first message %s\n", first);
    integra_string_free(first);
    integra_engine_free(engine);
    if (failures == 0) printf("events passed\n");
    return failures;
}

/* A bad log setting, and what the error must say. */
struct bad {
    const char *log;
    integra_status status;
    const char *expected;
};

static int refusals(const char *dir, const char *url) {
    char missing[2048], directory[2048], good[1024];
    snprintf(missing, sizeof missing, "{\"file\": \"%s/no-such-dir/integra.log\"}", dir);
    snprintf(directory, sizeof directory, "{\"file\": \"%s\"}", dir);
    snprintf(good, sizeof good, "\"file\": \"%s/bad.log\"", dir);
    char level[2048], small[2048], large[2048], keep[2048], negative[2048], unknown[2048];
    snprintf(level, sizeof level, "{%s, \"level\": \"verbose\"}", good);
    snprintf(small, sizeof small, "{%s, \"max_bytes\": 100}", good);
    snprintf(large, sizeof large, "{%s, \"max_bytes\": 1099511627776}", good);
    snprintf(keep, sizeof keep, "{%s, \"keep\": 1001}", good);
    snprintf(negative, sizeof negative, "{%s, \"keep\": -1}", good);
    snprintf(unknown, sizeof unknown, "{%s, \"colour\": \"red\"}", good);
    struct bad bad[] = {
        {"{\"level\": \"info\"}", INTEGRA_STATUS_INVALID_ARGUMENT, "missing field `file`"},
        {"\"/var/log/integra.log\"", INTEGRA_STATUS_INVALID_ARGUMENT, "at log: invalid type"},
        {"{\"file\": \"\"}", INTEGRA_STATUS_INVALID_ARGUMENT, "invalid log.file: "},
        {missing, INTEGRA_STATUS_INVALID_ARGUMENT, "invalid log.file: the directory"},
        {directory, INTEGRA_STATUS_INVALID_ARGUMENT, "is a directory"},
        {level, INTEGRA_STATUS_INVALID_ARGUMENT, "at log.level: unknown variant `verbose`"},
        {small, INTEGRA_STATUS_INVALID_ARGUMENT, "invalid log.max_bytes: must be between"},
        {large, INTEGRA_STATUS_INVALID_ARGUMENT, "invalid log.max_bytes: must be between"},
        {keep, INTEGRA_STATUS_INVALID_ARGUMENT, "invalid log.keep: must be between 0 and"},
        {negative, INTEGRA_STATUS_INVALID_ARGUMENT, "at log.keep: invalid value"},
        {unknown, INTEGRA_STATUS_INVALID_ARGUMENT, "unknown field `colour`"},
        {"{\"file\": \"/proc/integra-test.log\"}", INTEGRA_STATUS_FAILED,
         "cannot open the log file '/proc/integra-test.log'"},
    };
    char open[8192];
    integra_engine *engine = integra_engine_new();
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        settings(open, sizeof open, dir, "refused.db", url, bad[i].log);
        expect_error(engine, integra_engine_open(engine, open), bad[i].status, bad[i].expected);
    }
    CHECK(!exists(dir, "refused.db"), "a refused open created its database");
    CHECK(!exists(dir, "bad.log"), "a refused open created its log");

    /* One log per process: the same settings share it, others are refused while it is in
     * use, an open without a log neither uses nor changes it. */
    char shared[2048], respelled[2048], verbose[2048], next[2048];
    snprintf(shared, sizeof shared, "{\"file\": \"%s/shared.log\", \"level\": \"info\"}", dir);
    snprintf(respelled, sizeof respelled, "{\"file\": \"%s/sub/../shared.log\"}", dir);
    char sub[2048];
    snprintf(sub, sizeof sub, "%s/sub", dir);
    CHECK(mkdir(sub, 0700) == 0, "mkdir %s", sub);
    snprintf(verbose, sizeof verbose, "{\"file\": \"%s/shared.log\", \"level\": \"debug\"}", dir);
    snprintf(next, sizeof next, "{\"file\": \"%s/next.log\", \"level\": \"debug\"}", dir);
    integra_engine *a = integra_engine_new(), *b = integra_engine_new(), *c = integra_engine_new();
    settings(open, sizeof open, dir, "a.db", url, shared);
    must(a, integra_engine_open(a, open), "open a");
    settings(open, sizeof open, dir, "b.db", url, respelled);
    must(b, integra_engine_open(b, open), "open b, with the same log spelled otherwise");
    settings(open, sizeof open, dir, "c.db", url, verbose);
    expect_error(c, integra_engine_open(c, open), INTEGRA_STATUS_INVALID_ARGUMENT,
                 "this process logs to");
    CHECK(!exists(dir, "c.db"), "an open refused for its log created its database");
    settings(open, sizeof open, dir, "c.db", url, NULL);
    must(c, integra_engine_open(c, open), "open c, without a log");
    integra_engine_free(a);
    settings(open, sizeof open, dir, "next.db", url, next);
    expect_error(engine, integra_engine_open(engine, open), INTEGRA_STATUS_INVALID_ARGUMENT,
                 "this process logs to");
    integra_engine_free(b);
    /* The last handle that named the log let go: it is closed, another can be opened. */
    must(engine, integra_engine_open(engine, open), "open with another log, the first closed");
    integra_engine_free(c);
    integra_engine_free(engine);
    if (failures == 0) printf("refusals passed\n");
    return failures;
}

int main(int argc, char **argv) {
    if (argc == 8 && strcmp(argv[1], "events") == 0) {
        return events(argv[2], argv[3], argv[4], argv[5], argv[6], atoi(argv[7]));
    }
    if (argc == 4 && strcmp(argv[1], "refusals") == 0) {
        return refusals(argv[2], argv[3]);
    }
    fprintf(stderr,
            "usage: %s events <dir> <URL> <level> <max_bytes> <keep> <messages>\n"
            "       %s refusals <dir> <URL>\n",
            argv[0], argv[0]);
    return 2;
}
