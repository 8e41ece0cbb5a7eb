/* Integra from C: open an engine, register a message, deliver it, read its status.
 * Build and run it from the repository root as the README's "C quick start" says:
 * the library built by cargo, then compiled with an rpath to it. */
#include <stdio.h>

#include "integra.h"

int main(int argc, char **argv) {
    if (argc != 3) return 2;
    char settings[1024];
    snprintf(settings, sizeof settings,
             "{\"database\": \"%s\", \"config\": {"
             "\"endpoints\": [{\"code\": \"shop\", \"base_url\": \"%s\"}],"
             "\"subscribers\": [{\"code\": \"shop\", \"kind\": \"http\", \"endpoint\": \"shop\"}],"
             "\"flows\": [{\"code\": \"ORDERS\", \"direction\": \"outgoing\", \"subscribers\": [\"shop\"]}]}}",
             argv[1], argv[2]);

    integra_engine *engine = integra_engine_new();
    char *id = NULL, *report = NULL, *status = NULL;
    if (integra_engine_open(engine, settings) != INTEGRA_STATUS_OK ||
        integra_engine_register_message(engine, "ORDERS", "{\"number\": \"A-1\"}", false, NULL, &id) != INTEGRA_STATUS_OK ||
        integra_engine_dispatch(engine, 100, 10000, &report) != INTEGRA_STATUS_OK ||
        integra_engine_message_status(engine, id, &status) != INTEGRA_STATUS_OK) {
        char *error = integra_engine_last_error(engine);
        fprintf(stderr, "integra: %s\n", error);
        integra_string_free(error);
        integra_engine_free(engine);
        return 1;
    }
    printf("registered %s\ndispatched %s\nstatus %s\n", id, report, status);
    integra_string_free(id);
    integra_string_free(report);
    integra_string_free(status);
    integra_engine_free(engine);
    return 0;
}
