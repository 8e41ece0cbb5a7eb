/*
 * The whole cycle through include/integra.h, as a C program sees it: open an engine on a
 * database, register a message on a flow formed by an external former, form it, deliver it
 * to an HTTP subscriber, read its status; and the failures a C caller must handle.
 *
 * Usage: scenario <database file> <subscriber base URL>. Exits 0 when every check passed.
 */
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "integra.h"

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: %s <database> <subscriber URL>\n", argv[0]);
        return 2;
    }
    char settings[4096];
    snprintf(settings, sizeof settings,
             "{\"database\": \"%s\", \"config\": {"
             "\"endpoints\": [{\"code\": \"shop\", \"base_url\": \"%s\","
             " \"auth\": {\"type\": \"bearer\", \"token\": \"c-secret-token\"}}],"
             "\"subscribers\": [{\"code\": \"shop\", \"kind\": \"http\", \"endpoint\": \"shop\","
             " \"http\": {\"path\": \"/orders\"}}],"
             "\"flows\": [{\"code\": \"ORDERS\", \"direction\": \"outgoing\","
             " \"subscribers\": [\"shop\"], \"former\": \"external\"},"
             " {\"code\": \"IN\", \"direction\": \"incoming\"}]}}",
             argv[1], argv[2]);

    CHECK(strlen(integra_version()) > 0, "no version");
    integra_engine *engine = integra_engine_new();
    CHECK(engine != NULL, "integra_engine_new returned NULL");

    /* Before open: every operation says so. */
    char *out = NULL;
    expect_error(engine, integra_engine_metrics_text(engine, &out), INTEGRA_STATUS_NOT_OPEN,
                 "call Open first");
    CHECK(out == NULL, "an out-parameter was written on failure");

    must(engine, integra_engine_open(engine, settings), "open");

    /* Register, form (as an external former), deliver, read the status. */
    char *id = NULL;
    must(engine,
         integra_engine_register_message(engine, "ORDERS", "{\"ref\": \"order-1\"}", false,
                                         "{\"object_key\": \"order-1\"}", &id),
         "register");
    char *items = NULL;
    must(engine, integra_engine_next_to_form(engine, 10, 60, &items), "next_to_form");
    CHECK(strstr(items, id) != NULL, "the message to form is not offered: %s", items);
    integra_string_free(items);
    char *violations = NULL;
    must(engine,
         integra_engine_complete_forming(engine, id, "{\"number\": \"A-1\", \"sum\": 10}",
                                         &violations),
         "complete_forming");
    CHECK(strcmp(violations, "") == 0, "violations: %s", violations);
    integra_string_free(violations);
    char *report = NULL;
    must(engine, integra_engine_dispatch(engine, 100, 10000, &report), "dispatch");
    CHECK(strstr(report, "\"sent\":1") != NULL, "dispatch report: %s", report);
    integra_string_free(report);
    char *status = NULL;
    must(engine, integra_engine_message_status(engine, id, &status), "message_status");
    CHECK(strstr(status, "\"status\":\"sent\"") != NULL, "status: %s", status);
    integra_string_free(status);

    /* What an operator's report reads: the latest messages, the counts. */
    char *list = NULL;
    must(engine, integra_engine_list_messages(engine, "{\"flow\": \"ORDERS\", \"limit\": 1}", &list),
         "list_messages");
    CHECK(strstr(list, id) != NULL && strstr(list, "\"seq\":") != NULL, "list: %s", list);
    integra_string_free(list);
    must(engine, integra_engine_list_messages(engine, NULL, &list), "list_messages, no filter");
    CHECK(strstr(list, id) != NULL, "list: %s", list);
    integra_string_free(list);
    char *counts = NULL;
    must(engine, integra_engine_counts(engine, &counts), "counts");
    CHECK(strstr(counts, "{\"queue\":\"deliveries\",\"flow\":\"ORDERS\",\"subscriber\":\"shop\","
                         "\"status\":\"sent\",\"count\":1}") != NULL,
          "counts: %s", counts);
    integra_string_free(counts);
    char *health = NULL;
    must(engine, integra_engine_subscriber_health(engine, &health), "subscriber_health");
    CHECK(strstr(health, "\"subscriber\":\"shop\",\"last_success_at\":") != NULL &&
              strstr(health, "\"consecutive_failures\":0") != NULL,
          "health: %s", health);
    integra_string_free(health);
    integra_string_free(id);

    /* An incoming message whose processing failed, seen and re-driven. */
    char *accepted = NULL;
    must(engine, integra_engine_accept_incoming(engine, "IN", "m-1", "{\"x\": 1}", NULL, &accepted),
         "accept_incoming");
    char *taken = NULL;
    must(engine, integra_engine_next_incoming(engine, 10, 60, &taken), "next_incoming");
    const char *at = strstr(taken, "\"id\":\"");
    CHECK(at != NULL, "next_incoming: %s", taken);
    char incoming_id[64] = {0};
    if (at != NULL) sscanf(at + 6, "%63[^\"]", incoming_id);
    integra_string_free(taken);
    integra_string_free(accepted);
    must(engine, integra_engine_fail_incoming(engine, incoming_id, "the handler broke"), "fail_incoming");
    char *incoming = NULL;
    must(engine, integra_engine_incoming_status(engine, incoming_id, &incoming), "incoming_status");
    CHECK(strstr(incoming, "the handler broke") != NULL, "incoming status: %s", incoming);
    integra_string_free(incoming);
    must(engine, integra_engine_list_incoming(engine, "{\"flow\": \"IN\", \"status\": \"error\"}", &list),
         "list_incoming");
    CHECK(strstr(list, incoming_id) != NULL && strstr(list, "\"message_id\":\"m-1\"") != NULL,
          "list_incoming: %s", list);
    integra_string_free(list);
    uint64_t redriven = 0;
    must(engine, integra_engine_retry_incoming(engine, "{\"flow\": \"IN\"}", "fixed", &redriven),
         "retry_incoming");
    CHECK(redriven == 1, "retry_incoming re-drove %llu", (unsigned long long)redriven);
    expect_error(engine, integra_engine_list_messages(engine, "{\"colour\": 1}", &out),
                 INTEGRA_STATUS_INVALID_ARGUMENT, "unknown field `colour`");

    /* Failures a caller must handle: each with its status and a message naming the cause. */
    expect_error(engine,
                 integra_engine_register_message(engine, "NOPE", "{}", false, NULL, &out),
                 INTEGRA_STATUS_NOT_FOUND, "unknown flow 'NOPE'");
    expect_error(engine,
                 integra_engine_register_message(engine, "ORDERS", "{oops", false, NULL, &out),
                 INTEGRA_STATUS_INVALID_ARGUMENT, "is not valid JSON");
    expect_error(engine,
                 integra_engine_register_message(engine, NULL, "{}", false, NULL, &out),
                 INTEGRA_STATUS_NULL_PARAMETER, "flow is NULL");
    expect_error(engine, integra_engine_next_to_form(engine, 0, 60, &out),
                 INTEGRA_STATUS_INVALID_ARGUMENT, "max: must be between 1");
    expect_error(engine, integra_engine_load_configuration(engine, "{\"flows\": [{}]}"),
                 INTEGRA_STATUS_CONFIG, "missing field `code`");
    CHECK(out == NULL, "an out-parameter was written on failure");
    CHECK(integra_engine_open(NULL, settings) == INTEGRA_STATUS_NULL_PARAMETER, "NULL engine");

    /* Strings returned after success; empty last error after success. */
    char *metrics = NULL;
    must(engine, integra_engine_metrics_text(engine, &metrics), "metrics_text");
    CHECK(strstr(metrics, "integra_deliveries_total") != NULL, "metrics: %.200s", metrics);
    integra_string_free(metrics);
    char *integrity = NULL;
    must(engine, integra_engine_check_integrity(engine, true, &integrity), "check_integrity");
    CHECK(strstr(integrity, "\"ok\":true") != NULL, "integrity: %.200s", integrity);
    integra_string_free(integrity);

    /* Issue 22: starting the dispatcher that runs succeeds, and says it was running; a
     * second handle on the database (another 1C session) shares it. */
    bool started = false;
    must(engine, integra_engine_start_dispatcher(engine, 2, &started), "start_dispatcher");
    CHECK(started, "the dispatcher did not say it started");
    must(engine, integra_engine_start_dispatcher(engine, 2, &started), "start_dispatcher again");
    CHECK(!started, "the dispatcher said it started twice");
    integra_engine *session = integra_engine_new();
    char joined[1024];
    snprintf(joined, sizeof joined, "{\"database\": \"%s\"}", argv[1]);
    must(session, integra_engine_open(session, joined), "open a second handle");
    must(session, integra_engine_start_dispatcher(session, 4, NULL), "start_dispatcher from it");
    bool was_running = false;
    must(session, integra_engine_stop_dispatcher(session, &was_running), "stop_dispatcher");
    CHECK(was_running, "the second handle did not share the dispatcher");
    integra_engine_free(session);

    /* The exported configuration hides the token. */
    char *config = NULL;
    must(engine, integra_engine_get_configuration(engine, &config), "get_configuration");
    CHECK(strstr(config, "c-secret-token") == NULL, "the export shows the token: %s", config);
    CHECK(strstr(config, "\"token\":\"***\"") != NULL, "export: %s", config);
    integra_string_free(config);

    char *error = integra_engine_last_error(engine);
    CHECK(strcmp(error, "") == 0, "last error after success: %s", error);
    integra_string_free(error);

    integra_string_free(NULL);
    integra_engine_free(engine);
    integra_engine_free(NULL);
    if (failures == 0) {
        printf("scenario passed\n");
    }
    return failures == 0 ? 0 : 1;
}
