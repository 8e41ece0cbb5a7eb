/*
 * The message exchange (the 1C SSL "Обмен сообщениями" API) through include/integra.h:
 * two bases in one C process, each on its own database and serving the exchange on its own
 * port, connect, send a quick message, deliver it, handle it through the pull API, and see
 * it done on both sides; and the failures a C caller must handle.
 *
 * Compiled with -DINTEGRA_FEATURE_RECEIVER (the library is built with the `receiver`
 * feature). Usage: exchange <scratch dir> <port of A> <port of B>. Exits 0 when every
 * check passed.
 */
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "integra.h"

/* Opens base `name` on `dir`/`name`.db, serving the exchange on `port`. */
static integra_engine *open_base(const char *dir, const char *name, const char *port) {
    char settings[2048];
    snprintf(settings, sizeof settings,
             "{\"database\": \"%s/%s.db\", \"config\": {"
             "\"listeners\": [{\"code\": \"main\", \"address\": \"127.0.0.1:%s\","
             " \"exchange\": {\"auth\": {\"type\": \"basic\", \"username\": \"%s\","
             " \"password\": \"pw-%s\"}}}],"
             "\"exchange\": {\"name\": \"%s\"}}}",
             dir, name, port, name, name, name);
    integra_engine *engine = integra_engine_new();
    must(engine, integra_engine_open(engine, settings), "open");
    bool started = false;
    must(engine, integra_engine_start_server(engine, NULL, &started), "start_server");
    CHECK(started, "the server did not say it started");
    /* Issue 22: starting what runs succeeds, and says so. */
    must(engine, integra_engine_start_server(engine, "", &started), "start_server again");
    CHECK(!started, "the server said it started twice");
    return engine;
}

/* How another base reaches base `name` on `port`, as connection settings JSON. */
static void reach(char *out, size_t size, const char *name, const char *port) {
    snprintf(out, size,
             "{\"url\": \"http://127.0.0.1:%s\", \"username\": \"%s\", \"password\": \"pw-%s\"}",
             port, name, name);
}

/* The text of string field `name` in `json` (a flat object), into `out`. */
static void field(const char *json, const char *name, char *out, size_t size) {
    char key[64];
    snprintf(key, sizeof key, "\"%s\":\"", name);
    const char *start = strstr(json, key);
    out[0] = '\0';
    if (start == NULL) return;
    start += strlen(key);
    const char *end = strchr(start, '"');
    size_t n = end == NULL ? 0 : (size_t)(end - start);
    if (n >= size) n = size - 1;
    memcpy(out, start, n);
    out[n] = '\0';
}

int main(int argc, char **argv) {
    if (argc != 4) {
        fprintf(stderr, "usage: %s <dir> <port of A> <port of B>\n", argv[0]);
        return 2;
    }
    integra_engine *a = open_base(argv[1], "A", argv[2]);
    integra_engine *b = open_base(argv[1], "B", argv[3]);
    char a_settings[512], b_settings[512];
    reach(a_settings, sizeof a_settings, "A", argv[2]);
    reach(b_settings, sizeof b_settings, "B", argv[3]);

    /* Connect: both ways checked, B recorded at A and A at B. */
    char *endpoint = NULL;
    must(a, integra_engine_connect_endpoint(a, a_settings, b_settings, "Склад", NULL, &endpoint),
         "connect_endpoint");
    CHECK(strstr(endpoint, "\"name\":\"Склад\"") != NULL, "endpoint: %s", endpoint);
    char code[64];
    field(endpoint, "code", code, sizeof code);
    integra_string_free(endpoint);
    char *at_b = NULL;
    must(b, integra_engine_exchange_endpoints(b, &at_b), "exchange_endpoints");
    CHECK(strstr(at_b, "\"name\":\"A\"") != NULL, "B's endpoints: %s", at_b);
    integra_string_free(at_b);

    /* A quick message to B, pushed at once. */
    char *id = NULL;
    must(a, integra_engine_send_message(a, "заказы", "{\"n\": 1}", code, true, &id),
         "send_message");
    char *report = NULL;
    must(a, integra_engine_deliver_messages(a, &report), "deliver_messages");
    CHECK(strstr(report, "\"delivered\":1") != NULL, "report: %s", report);
    integra_string_free(report);

    /* B handles it through the pull API; its done notice travels back on its dispatch. */
    char *items = NULL;
    must(b, integra_engine_next_exchange_messages(b, 10, 60, &items), "next_exchange_messages");
    CHECK(strstr(items, id) != NULL && strstr(items, "заказы") != NULL, "items: %s", items);
    integra_string_free(items);
    must(b, integra_engine_ack_exchange_message(b, id), "ack_exchange_message");
    must(b, integra_engine_dispatch(b, 10, 10000, &report), "dispatch");
    CHECK(strstr(report, "\"exchanged\":1") != NULL, "B's dispatch: %s", report);
    integra_string_free(report);
    char *sent = NULL;
    must(a, integra_engine_sent_exchange_messages(a, "done", 10, &sent), "sent_exchange_messages");
    CHECK(strstr(sent, id) != NULL, "done at A: %s", sent);
    integra_string_free(sent);
    integra_string_free(id);

    /* Failures a caller must handle, each naming its cause. */
    char *out = NULL;
    integra_status status = integra_engine_send_message(a, "x", "{}", "nobody", false, &out);
    char *error = integra_engine_last_error(a);
    CHECK(status == INTEGRA_STATUS_NOT_FOUND && strstr(error, "'nobody'") != NULL,
          "status %d: %s", (int)status, error);
    integra_string_free(error);
    status = integra_engine_connect_endpoint(
        a, a_settings, "{\"url\": \"http://127.0.0.1:1\", \"username\": \"B\", \"password\": \"x\"}",
        NULL, NULL, &out);
    error = integra_engine_last_error(a);
    CHECK(status != INTEGRA_STATUS_OK && strstr(error, "this base → recipient") != NULL,
          "status %d: %s", (int)status, error);
    integra_string_free(error);
    status = integra_engine_received_exchange_messages(b, "lost", 10, &out);
    error = integra_engine_last_error(b);
    CHECK(status == INTEGRA_STATUS_INVALID_ARGUMENT && strstr(error, "lost") != NULL,
          "status %d: %s", (int)status, error);
    integra_string_free(error);
    CHECK(out == NULL, "an out-parameter was written on failure");

    integra_engine_free(a);
    integra_engine_free(b);
    if (failures == 0) {
        printf("exchange passed\n");
    }
    return failures == 0 ? 0 : 1;
}
