/*
 * Issue 22: the sessions of a 1C server register messages while others reload or change
 * the configuration. Eight sessions (threads, each with its handle, as each 1C session has
 * its add-in object) register 200 messages each on flow ORDERS, each opening the database
 * with the configuration before each registration (as the BSL wrapper once did at every
 * call), while a ninth keeps opening it with the configuration too and a tenth keeps
 * changing another flow: every registration succeeds. (Before, a few in each run failed
 * with "the configuration changed 5 times while this call ran".)
 *
 * Usage: sessions <database file>. Prints "sessions passed: <n> registered, <m> reopened,
 * <k> changed" and exits 0 when every check passed.
 */
#define _POSIX_C_SOURCE 200809L

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "integra.h"

#define SESSIONS 8
#define EACH 200

/* The configuration, with flow OTHER named `name`. ORDERS stays as it is. */
static void configuration(char *out, size_t size, const char *name) {
    snprintf(out, size,
             "{\"endpoints\": [{\"code\": \"shop\", \"base_url\": \"http://127.0.0.1:9\","
             " \"auth\": {\"type\": \"bearer\", \"token\": \"sessions-secret\"}}],"
             "\"subscribers\": [{\"code\": \"shop\", \"kind\": \"http\", \"endpoint\": \"shop\"}],"
             "\"flows\": [{\"code\": \"ORDERS\", \"direction\": \"outgoing\","
             " \"subscribers\": [\"shop\"], \"former\": \"external\"},"
             " {\"code\": \"OTHER\", \"name\": \"%s\", \"direction\": \"outgoing\","
             " \"subscribers\": [\"shop\"]}]}",
             name);
}

static const char *database;
static char with_configuration[8192];
static char joined[2048];

static atomic_int registered, failed, reopened, changed, stopping;
/* Set once the reopener and the changer have each made their first attempt: the sessions
 * start registering only then, so the three overlap however the threads are scheduled. */
static atomic_int reopening, changing;
static pthread_mutex_t first_error_lock = PTHREAD_MUTEX_INITIALIZER;
static char first_error[1024];

/* Keeps the first error any thread met. */
static void record(integra_engine *engine, const char *what) {
    char *error = integra_engine_last_error(engine);
    pthread_mutex_lock(&first_error_lock);
    if (first_error[0] == '\0') {
        snprintf(first_error, sizeof first_error, "%s: %s", what, error);
    }
    pthread_mutex_unlock(&first_error_lock);
    integra_string_free(error);
}

static void *session(void *arg) {
    int number = *(int *)arg;
    while (!reopening || !changing) {
        sched_yield();
    }
    integra_engine *engine = integra_engine_new();
    for (int i = 0; i < EACH; i++) {
        char source[64];
        snprintf(source, sizeof source, "{\"session\": %d, \"n\": %d}", number, i);
        char *id = NULL;
        if (integra_engine_open(engine, with_configuration) != INTEGRA_STATUS_OK) {
            failed++;
            record(engine, "a session's open");
            continue;
        }
        if (integra_engine_register_message(engine, "ORDERS", source, false, NULL, &id) ==
            INTEGRA_STATUS_OK) {
            registered++;
            integra_string_free(id);
        } else {
            failed++;
            record(engine, "register");
        }
    }
    integra_engine_free(engine);
    return NULL;
}

/* Another session, opening with the configuration again and again. */
static void *reopener(void *arg) {
    (void)arg;
    integra_engine *engine = integra_engine_new();
    while (!stopping) {
        if (integra_engine_open(engine, with_configuration) == INTEGRA_STATUS_OK) {
            reopened++;
        } else {
            record(engine, "reopen");
        }
        reopening = 1;
    }
    integra_engine_free(engine);
    return NULL;
}

/* Another session, changing flow OTHER again and again. */
static void *changer(void *arg) {
    (void)arg;
    integra_engine *engine = integra_engine_new();
    must(engine, integra_engine_open(engine, joined), "the changer's open");
    char config[4096], name[32];
    for (int n = 1; !stopping; n++) {
        snprintf(name, sizeof name, "version %d", n);
        configuration(config, sizeof config, name);
        if (integra_engine_load_configuration(engine, config) == INTEGRA_STATUS_OK) {
            changed++;
        } else {
            record(engine, "change");
        }
        changing = 1;
    }
    integra_engine_free(engine);
    return NULL;
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: %s <database>\n", argv[0]);
        return 2;
    }
    database = argv[1];
    char config[4096];
    configuration(config, sizeof config, "version 0");
    snprintf(with_configuration, sizeof with_configuration,
             "{\"database\": \"%s\", \"config\": %s}", database, config);
    snprintf(joined, sizeof joined, "{\"database\": \"%s\"}", database);

    /* The first open loads the configuration; the engine lives while this handle does. */
    integra_engine *first = integra_engine_new();
    must(first, integra_engine_open(first, with_configuration), "open");

    pthread_t reloader, changer_thread, sessions[SESSIONS];
    int numbers[SESSIONS];
    CHECK(pthread_create(&reloader, NULL, reopener, NULL) == 0, "pthread_create");
    CHECK(pthread_create(&changer_thread, NULL, changer, NULL) == 0, "pthread_create");
    for (int s = 0; s < SESSIONS; s++) {
        numbers[s] = s;
        CHECK(pthread_create(&sessions[s], NULL, session, &numbers[s]) == 0, "pthread_create");
    }
    for (int s = 0; s < SESSIONS; s++) {
        pthread_join(sessions[s], NULL);
    }
    stopping = 1;
    pthread_join(reloader, NULL);
    pthread_join(changer_thread, NULL);
    integra_engine_free(first);

    CHECK(failed == 0, "%d of %d registrations failed; the first error: %s", (int)failed,
          SESSIONS * EACH, first_error);
    CHECK(registered == SESSIONS * EACH, "%d registered", (int)registered);
    CHECK(first_error[0] == '\0', "%s", first_error);
    if (failures == 0) {
        printf("sessions passed: %d registered, %d reopened, %d changed\n", (int)registered,
               (int)reopened, (int)changed);
    }
    return failures == 0 ? 0 : 1;
}
