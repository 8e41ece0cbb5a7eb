/*
 * Issue 16: the last error belongs to the thread that made the call. Eight threads share
 * one handle; each in turn registers on a flow named after itself and that call number
 * (unknown, so it fails) and makes a call that succeeds, 2,500 times. After each failure the
 * thread's last error must name its own flow and call, whatever the others did meanwhile;
 * after each success it must be empty. (Before, the handle kept one last error that any
 * thread's next call cleared or replaced.)
 *
 * Usage: last_error <database file>. Prints "last_error passed: <n> failures read" and exits
 * 0 when every check passed.
 */
#define _POSIX_C_SOURCE 200809L

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "integra.h"

#define THREADS 8
#define EACH 2500

static integra_engine *shared;
static atomic_int read_back, wrong;
static pthread_mutex_t first_wrong_lock = PTHREAD_MUTEX_INITIALIZER;
static char first_wrong[1024];

static void record_wrong(const char *what, const char *error) {
    wrong++;
    pthread_mutex_lock(&first_wrong_lock);
    if (first_wrong[0] == '\0') {
        snprintf(first_wrong, sizeof first_wrong, "%s: '%s'", what, error);
    }
    pthread_mutex_unlock(&first_wrong_lock);
}

static void *caller(void *arg) {
    int number = *(int *)arg;
    for (int i = 0; i < EACH; i++) {
        char flow[64];
        snprintf(flow, sizeof flow, "NO_SUCH_FLOW_%d_%d", number, i);
        char *id = NULL;
        integra_status status =
            integra_engine_register_message(shared, flow, "{}", false, NULL, &id);
        char *error = integra_engine_last_error(shared);
        if (status == INTEGRA_STATUS_OK) {
            record_wrong("a registration on an unknown flow succeeded", flow);
            integra_string_free(id);
        } else if (strstr(error, flow) == NULL) {
            record_wrong(flow, error);
        } else {
            read_back++;
        }
        integra_string_free(error);

        char *config = NULL;
        status = integra_engine_get_configuration(shared, &config);
        error = integra_engine_last_error(shared);
        if (status != INTEGRA_STATUS_OK || error[0] != '\0') {
            record_wrong("after a call that succeeded", error);
        }
        integra_string_free(config);
        integra_string_free(error);
    }
    return NULL;
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: last_error <database file>\n");
        return 2;
    }
    char settings[4096];
    snprintf(settings, sizeof settings, "{\"database\": \"%s\", \"config\": {\"flows\": []}}",
             argv[1]);
    shared = integra_engine_new();
    must(shared, integra_engine_open(shared, settings), "open");
    pthread_t threads[THREADS];
    int numbers[THREADS];
    for (int t = 0; t < THREADS; t++) {
        numbers[t] = t;
        CHECK(pthread_create(&threads[t], NULL, caller, &numbers[t]) == 0, "pthread_create");
    }
    for (int t = 0; t < THREADS; t++) {
        pthread_join(threads[t], NULL);
    }
    integra_engine_free(shared);
    CHECK(wrong == 0, "%d last errors were another call's or empty; the first: %s", (int)wrong,
          first_wrong);
    CHECK(read_back == THREADS * EACH, "%d of %d failures read back", (int)read_back,
          THREADS * EACH);
    if (failures > 0) {
        return 1;
    }
    printf("last_error passed: %d failures read\n", (int)read_back);
    return 0;
}
