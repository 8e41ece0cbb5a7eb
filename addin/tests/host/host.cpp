// A test host that plays the 1C platform for Integra's add-in: it loads the library with
// dlopen and calls it through real C++ virtual calls, declared in include/integra_native_api.h,
// as the platform's compiled C++ does. It provides a memory manager that tracks every
// allocation and free, and a connection that records AddError and traps any call after
// Done. Checks print "FAIL ..." lines; the exit code is the number of failures.
//
// Usage: host <library> <scratch directory> <subscriber base URL> [quick]

#include <arpa/inet.h>
#include <dlfcn.h>
#include <dirent.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "integra_native_api.h"
#include "utf16.hpp"

static std::atomic<int> failures{0};

#define CHECK(cond, ...)                                                \
    do {                                                                \
        if (!(cond)) {                                                  \
            std::fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);   \
            std::fprintf(stderr, __VA_ARGS__);                          \
            std::fprintf(stderr, "\n");                                 \
            failures++;                                                 \
        }                                                               \
    } while (0)

// Upper- and lower-cases ASCII and Cyrillic, as BSL authors may type names.
static std::u16string recase(std::u16string s, bool upper) {
    for (auto &c : s) {
        if (upper) {
            if (c >= u'a' && c <= u'z') c -= 32;
            else if (c >= 0x430 && c <= 0x44f) c -= 0x20;
            else if (c == 0x451) c = 0x401;
        } else {
            if (c >= u'A' && c <= u'Z') c += 32;
            else if (c >= 0x410 && c <= 0x42f) c += 0x20;
            else if (c == 0x401) c = 0x451;
        }
    }
    return s;
}

// ---- The platform's memory manager: exact-size allocations, every pointer tracked ---

class TrackingMemory : public IMemoryManager {
public:
    std::mutex lock;
    std::map<void *, size_t> live;
    std::atomic<bool> refuse{false};
    std::atomic<int> foreign_frees{0};

    bool AllocMemory(void **p, unsigned long bytes) override {
        if (refuse) return false;
        *p = std::malloc(bytes == 0 ? 1 : bytes);
        std::lock_guard<std::mutex> g(lock);
        live[*p] = bytes;
        return *p != nullptr;
    }
    void FreeMemory(void **p) override {
        if (p == nullptr || *p == nullptr) return;
        {
            std::lock_guard<std::mutex> g(lock);
            auto it = live.find(*p);
            if (it == live.end()) {
                foreign_frees++;
                return;
            }
            live.erase(it);
        }
        std::free(*p);
        *p = nullptr;
    }
    bool owns(const void *p) {
        std::lock_guard<std::mutex> g(lock);
        return live.count(const_cast<void *>(p)) == 1;
    }
    size_t outstanding() {
        std::lock_guard<std::mutex> g(lock);
        return live.size();
    }
};

static TrackingMemory memory;

// A string the host owns, in platform memory (as the platform passes arguments).
static WCHAR_T *platform_string(const std::u16string &s, bool terminate = true) {
    void *p = nullptr;
    memory.AllocMemory(&p, (s.size() + (terminate ? 1 : 0)) * sizeof(WCHAR_T));
    std::memcpy(p, s.data(), s.size() * sizeof(WCHAR_T));
    if (terminate) static_cast<WCHAR_T *>(p)[s.size()] = 0;
    return static_cast<WCHAR_T *>(p);
}

// ---- The platform's side of an object: records errors, traps calls after Done ------

class RecordingConnection : public IAddInDefBaseEx {
public:
    struct Error {
        unsigned short code;
        std::string source, text;
        long scode;
    };
    std::mutex lock;
    std::vector<Error> errors;
    std::atomic<bool> done{false};
    std::atomic<int> after_done{0};

    bool AddError(unsigned short wcode, const WCHAR_T *source, const WCHAR_T *descr, long scode) override {
        if (done) { after_done++; return false; }
        std::lock_guard<std::mutex> g(lock);
        errors.push_back({wcode, utf8(source), utf8(descr), scode});
        return true;
    }
    bool Read(WCHAR_T *, tVariant *, long *, WCHAR_T **) override { return trap(); }
    bool Write(WCHAR_T *, tVariant *) override { return trap(); }
    bool RegisterProfileAs(WCHAR_T *) override { return trap(); }
    bool SetEventBufferDepth(long) override { return trap(); }
    long GetEventBufferDepth() override { trap(); return 1; }
    bool ExternalEvent(WCHAR_T *, WCHAR_T *, WCHAR_T *) override { return trap(); }
    void CleanEventBuffer() override { trap(); }
    bool SetStatusLine(WCHAR_T *) override { return trap(); }
    void ResetStatusLine() override { trap(); }
    IInterface *GetInterface(Interfaces) override { trap(); return nullptr; }

    std::string last_error() {
        std::lock_guard<std::mutex> g(lock);
        return errors.empty() ? std::string() : errors.back().text;
    }
    size_t error_count() {
        std::lock_guard<std::mutex> g(lock);
        return errors.size();
    }

private:
    // The add-in uses nothing but AddError; any other call, or any call after Done, fails.
    bool trap() {
        if (done) after_done++;
        failures++;
        std::fprintf(stderr, "FAIL: the add-in called a platform method it has no use for\n");
        return false;
    }
};

// ---- The library ------------------------------------------------------------------

static GetClassNamesPtr get_class_names;
static GetClassObjectPtr get_class_object;
static DestroyObjectPtr destroy_object;
static SetPlatformCapabilitiesPtr set_platform_capabilities;
static GetAttachTypePtr get_attach_type;

// A value read back from the add-in.
struct Result {
    bool ok = false;
    uint16_t vt = VTYPE_EMPTY;
    std::string text;
    double number = 0;
    bool flag = false;
};

// An argument as the platform would pass it.
struct Arg {
    enum Kind { Empty, Text, Unterminated, I4, R8, Bool } kind;
    std::string text;
    double number = 0;
    bool flag = false;
    static Arg str(const std::string &s) { return {Text, s, 0, false}; }
    static Arg bare(const std::string &s) { return {Unterminated, s, 0, false}; }
    static Arg i4(int n) { return {I4, "", double(n), false}; }
    static Arg r8(double n) { return {R8, "", n, false}; }
    static Arg boolean(bool b) { return {Bool, "", 0, b}; }
    static Arg none() { return {Empty, "", 0, false}; }
};

static void fill(tVariant &v, const Arg &a) {
    std::memset(&v, 0, sizeof v);
    switch (a.kind) {
        case Arg::Empty: v.vt = VTYPE_EMPTY; break;
        case Arg::Text:
        case Arg::Unterminated: {
            auto units = utf16(a.text);
            v.pwstrVal = platform_string(units, a.kind == Arg::Text);
            v.wstrLen = uint32_t(units.size());
            v.vt = VTYPE_PWSTR;
            break;
        }
        case Arg::I4: v.lVal = int32_t(a.number); v.vt = VTYPE_I4; break;
        case Arg::R8: v.dblVal = a.number; v.vt = VTYPE_R8; break;
        case Arg::Bool: v.bVal = a.flag; v.vt = VTYPE_BOOL; break;
    }
}

// Reads and frees a value the add-in returned.
static Result take(tVariant &v) {
    Result r;
    r.vt = v.vt;
    switch (v.vt) {
        case VTYPE_EMPTY: break;
        case VTYPE_I4: r.number = v.lVal; break;
        case VTYPE_R8: r.number = v.dblVal; break;
        case VTYPE_BOOL: r.flag = v.bVal; break;
        case VTYPE_PWSTR:
            CHECK(memory.owns(v.pwstrVal), "a returned string is not in platform memory");
            r.text = utf8(reinterpret_cast<const char16_t *>(v.pwstrVal), v.wstrLen);
            CHECK(v.pwstrVal[v.wstrLen] == 0, "a returned string is not NUL-terminated");
            memory.FreeMemory(reinterpret_cast<void **>(&v.pwstrVal));
            break;
        default: CHECK(false, "unexpected returned type %d", v.vt);
    }
    return r;
}

static void release(tVariant &v) {
    if ((v.vt == VTYPE_PWSTR || v.vt == VTYPE_BLOB || v.vt == VTYPE_PSTR) && v.pstrVal != nullptr) {
        memory.FreeMemory(reinterpret_cast<void **>(&v.pstrVal));
    }
}

// One add-in object, driven as the platform drives it.
struct Object {
    IComponentBase *component = nullptr;
    RecordingConnection connection;

    // Creates the object: Init and setMemManager in the order asked, then what 1C calls.
    bool create(bool memory_first) {
        auto name = utf16("Engine");
        if (get_class_object(reinterpret_cast<const WCHAR_T *>(name.c_str()), &component) == 0) return false;
        if (memory_first) {
            CHECK(component->setMemManager(&memory), "setMemManager");
            CHECK(component->Init(&connection), "Init");
        } else {
            CHECK(component->Init(&connection), "Init");
            CHECK(component->setMemManager(&memory), "setMemManager");
        }
        CHECK(component->GetInfo() == 2000, "GetInfo");
        WCHAR_T *extension = nullptr;
        CHECK(component->RegisterExtensionAs(&extension), "RegisterExtensionAs");
        CHECK(memory.owns(extension), "the extension name is not in platform memory");
        CHECK(utf8(extension) == "Engine", "extension %s", utf8(extension).c_str());
        memory.FreeMemory(reinterpret_cast<void **>(&extension));
        auto locale = utf16("ru_RU"), language = utf16("ru");
        component->SetLocale(reinterpret_cast<const WCHAR_T *>(locale.c_str()));
        component->SetUserInterfaceLanguageCode(reinterpret_cast<const WCHAR_T *>(language.c_str()));
        return true;
    }

    void done() {
        component->Done();
        connection.done = true;
    }

    void destroy() {
        CHECK(destroy_object(&component) == 0, "DestroyObject");
        CHECK(component == nullptr, "DestroyObject left the pointer");
    }

    long find(const std::string &name) {
        auto units = utf16(name);
        return component->FindMethod(reinterpret_cast<const WCHAR_T *>(units.c_str()));
    }

    // Calls a method by name with the arguments given; missing trailing ones are filled
    // from GetParamDefValue, as the platform does for omitted arguments.
    Result call(const std::string &name, const std::vector<Arg> &args, bool as_function = true) {
        long m = find(name);
        CHECK(m >= 0, "FindMethod(%s)", name.c_str());
        long n = component->GetNParams(m);
        std::vector<tVariant> params(size_t(n > 0 ? n : 0));
        for (long i = 0; i < n; i++) {
            if (size_t(i) < args.size()) {
                fill(params[size_t(i)], args[size_t(i)]);
            } else {
                std::memset(&params[size_t(i)], 0, sizeof(tVariant));
                CHECK(component->GetParamDefValue(m, i, &params[size_t(i)]),
                      "%s: no default for parameter %ld", name.c_str(), i);
            }
        }
        Result r;
        tVariant ret;
        std::memset(&ret, 0, sizeof ret);
        if (as_function && component->HasRetVal(m)) {
            r.ok = component->CallAsFunc(m, &ret, params.data(), n);
            if (r.ok) {
                auto value = take(ret);
                value.ok = true;
                r = value;
            }
        } else {
            r.ok = component->CallAsProc(m, params.data(), n);
        }
        for (auto &p : params) release(p);
        return r;
    }

    std::string property(const std::string &name) {
        auto units = utf16(name);
        long p = component->FindProp(reinterpret_cast<const WCHAR_T *>(units.c_str()));
        CHECK(p >= 0 && component->IsPropReadable(p), "FindProp(%s)", name.c_str());
        tVariant v;
        std::memset(&v, 0, sizeof v);
        CHECK(component->GetPropVal(p, &v), "GetPropVal(%s)", name.c_str());
        return take(v).text;
    }
};

static std::string open_settings(const std::string &db, const std::string &url) {
    return "{\"database\": \"" + db + "\", \"config\": {"
           "\"endpoints\": [{\"code\": \"shop\", \"base_url\": \"" + url + "\"}],"
           "\"subscribers\": [{\"code\": \"shop\", \"kind\": \"http\", \"endpoint\": \"shop\","
           " \"http\": {\"path\": \"/orders\"}}],"
           "\"flows\": [{\"code\": \"ORDERS\", \"direction\": \"outgoing\","
           " \"subscribers\": [\"shop\"], \"former\": \"external\"},"
           " {\"code\": \"Заказы\", \"direction\": \"outgoing\", \"subscribers\": [\"shop\"]},"
           " {\"code\": \"IN\", \"direction\": \"incoming\"}]}}";
}

static bool contains(const std::string &s, const std::string &part) {
    return s.find(part) != std::string::npos;
}

static int thread_count() {
    int n = 0;
    DIR *d = opendir("/proc/self/task");
    if (d == nullptr) return -1;
    while (readdir(d) != nullptr) n++;
    closedir(d);
    return n - 2;
}

// ---- Scenarios --------------------------------------------------------------------

// The attach phase 1C runs once per library.
static void attach() {
    CHECK(utf8(get_class_names()) == "Engine", "GetClassNames: %s", utf8(get_class_names()).c_str());
    CHECK(set_platform_capabilities(eAppCapabilities3) == eAppCapabilities3, "SetPlatformCapabilities");
    CHECK(get_attach_type() == eCanAttachAny, "GetAttachType");
    IComponentBase *none = nullptr;
    auto wrong = utf16("Nope");
    CHECK(get_class_object(reinterpret_cast<const WCHAR_T *>(wrong.c_str()), &none) == 0 && none == nullptr,
          "an unknown class was created");
    CHECK(destroy_object(&none) == -1, "DestroyObject of nothing");
    Object o;
    CHECK(o.create(false), "GetClassObject");
    o.done();
    o.destroy();
}

// Every name in both languages, any case; numbers out of range.
static void names() {
    Object o;
    o.create(true);
    IComponentBase *c = o.component;
    long methods = c->GetNMethods();
    CHECK(methods > 20, "only %ld methods", methods);
    for (long i = 0; i < methods; i++) {
        for (long alias = 0; alias < 2; alias++) {
            const WCHAR_T *name = c->GetMethodName(i, alias);
            CHECK(name != nullptr && memory.owns(name), "GetMethodName(%ld, %ld)", i, alias);
            if (name == nullptr) continue;
            std::u16string units(reinterpret_cast<const char16_t *>(name), length(name));
            CHECK(!units.empty(), "an empty name");
            for (auto variant : {units, recase(units, true), recase(units, false)}) {
                CHECK(c->FindMethod(reinterpret_cast<const WCHAR_T *>(variant.c_str())) == i,
                      "FindMethod(%s) != %ld", utf8(variant.c_str(), variant.size()).c_str(), i);
            }
            void *owned = const_cast<WCHAR_T *>(name);
            memory.FreeMemory(&owned);
        }
        CHECK(c->GetNParams(i) >= 0, "GetNParams(%ld)", i);
    }
    long props = c->GetNProps();
    CHECK(props == 2, "%ld properties", props);
    for (long i = 0; i < props; i++) {
        for (long alias = 0; alias < 2; alias++) {
            const WCHAR_T *name = c->GetPropName(i, alias);
            CHECK(name != nullptr && memory.owns(name), "GetPropName(%ld, %ld)", i, alias);
            auto upper = recase(std::u16string(reinterpret_cast<const char16_t *>(name), length(name)), true);
            CHECK(c->FindProp(reinterpret_cast<const WCHAR_T *>(upper.c_str())) == i, "FindProp");
            void *owned = const_cast<WCHAR_T *>(name);
            memory.FreeMemory(&owned);
        }
        CHECK(c->IsPropReadable(i) && !c->IsPropWritable(i), "property %ld access", i);
    }
    CHECK(o.find("ЗАРЕГИСТРИРОВАТЬСООБЩЕНИЕ") == o.find("registermessage"), "Russian and English");
    CHECK(o.find("Nothing") == -1, "an unknown method was found");
    CHECK(c->GetMethodName(methods, 0) == nullptr && c->GetMethodName(-1, 0) == nullptr, "method out of range");
    CHECK(c->GetMethodName(0, 2) == nullptr, "alias out of range");
    CHECK(c->GetPropName(props, 0) == nullptr && c->GetPropName(0, -1) == nullptr, "property out of range");
    CHECK(c->GetNParams(methods) == 0 && !c->HasRetVal(-5), "counts out of range");
    tVariant v;
    std::memset(&v, 0, sizeof v);
    CHECK(!c->GetPropVal(props, &v) && !c->IsPropReadable(-1), "property value out of range");
    CHECK(!c->GetParamDefValue(methods, 0, &v) && !c->GetParamDefValue(0, 99, &v), "default out of range");
    CHECK(!c->SetPropVal(0, &v), "a read-only property was set");
    size_t before = o.connection.error_count();
    CHECK(!c->CallAsFunc(methods + 3, &v, nullptr, 0), "a method out of range ran");
    CHECK(!c->CallAsProc(-1, nullptr, 0), "a negative method ran");
    CHECK(o.connection.error_count() == before + 2, "out-of-range calls were not reported");
    CHECK(contains(o.connection.last_error(), "there is no method number"), "%s", o.connection.last_error().c_str());
    o.done();
    o.destroy();
}

// The whole cycle, then every kind of bad input.
static void cycle(const std::string &dir, const std::string &url) {
    Object o;
    o.create(false);
    CHECK(!o.call("RegisterMessage", {Arg::str("ORDERS"), Arg::str("{}")}).ok, "registered before Open");
    CHECK(contains(o.property("LastError"), "call Open first"), "%s", o.property("LastError").c_str());
    CHECK(o.call("Open", {Arg::str(open_settings(dir + "/cycle.db", url))}).ok, "Open: %s", o.connection.last_error().c_str());
    CHECK(o.property("Версия").size() > 0, "no version");
    CHECK(o.property("LastError").empty(), "LastError after success");

    // Register (defaults for the two omitted parameters), form, send, read the status.
    Result id = o.call("ЗарегистрироватьСообщение", {Arg::str("ORDERS"), Arg::str("{\"ref\": \"a-1\"}")});
    CHECK(id.ok && id.vt == VTYPE_PWSTR && id.text.size() == 36, "RegisterMessage: %s", o.connection.last_error().c_str());
    Result items = o.call("NextToForm", {Arg::i4(10), Arg::r8(60.0)});
    CHECK(items.ok && contains(items.text, id.text), "NextToForm: %s", items.text.c_str());
    Result violations = o.call("CompleteForming", {Arg::str(id.text), Arg::bare("{\"number\": \"A-1\"}")});
    CHECK(violations.ok && violations.text.empty(), "CompleteForming: %s", violations.text.c_str());
    Result report = o.call("Dispatch", {Arg::r8(100), Arg::i4(10000)});
    CHECK(report.ok && contains(report.text, "\"sent\":1"), "Dispatch: %s", report.text.c_str());
    Result status = o.call("СтатусСообщения", {Arg::str(id.text)});
    CHECK(status.ok && contains(status.text, "\"status\":\"sent\""), "status: %s", status.text.c_str());
    // A pass-through flow with a Cyrillic code, a batch, a procedure call.
    Result ids = o.call("RegisterMessages", {Arg::str("Заказы"), Arg::str("[{\"source\": {\"n\": 1}}, {\"source\": {\"n\": 2}}]")});
    CHECK(ids.ok && ids.text.size() > 70, "RegisterMessages: %s", ids.text.c_str());
    CHECK(o.call("StartDispatcher", {}, false).ok, "StartDispatcher");
    Result stopped = o.call("StopDispatcher", {});
    CHECK(stopped.ok && stopped.vt == VTYPE_BOOL && stopped.flag, "StopDispatcher");
    Result accepted = o.call("ПринятьСообщение", {Arg::str("IN"), Arg::str("m-1"), Arg::str("{\"x\": 1}")});
    CHECK(accepted.ok && contains(accepted.text, "\"duplicate\":false"), "AcceptIncoming: %s", accepted.text.c_str());
    Result cleaned = o.call("Cleanup", {});
    CHECK(cleaned.ok && cleaned.vt == VTYPE_I4 && cleaned.number == 0, "Cleanup");
    Result valid = o.call("Validate", {Arg::str("{\"openapi\": \"3.0.3\", \"info\": {\"title\": \"t\", \"version\": \"1\"}, \"paths\": {}, \"components\": {\"schemas\": {\"A\": {\"type\": \"object\", \"required\": [\"n\"]}}}}"), Arg::str("A"), Arg::str("{}")});
    CHECK(valid.ok && contains(valid.text, "required property"), "Validate: %s", valid.text.c_str());
    Result metrics = o.call("MetricsText", {});
    CHECK(metrics.ok && contains(metrics.text, "integra_deliveries_total"), "MetricsText");

    // Bad input: each call fails, reports its text through AddError, and keeps it in LastError.
    struct Bad {
        const char *method;
        std::vector<Arg> args;
        const char *expected;
    };
    std::vector<Bad> bad = {
        {"RegisterMessage", {Arg::i4(5), Arg::str("{}")}, "RegisterMessage takes a String here, got Number"},
        {"RegisterMessage", {Arg::str("ORDERS"), Arg::str("{oops")}, "is not valid JSON"},
        {"RegisterMessage", {Arg::str("NOPE"), Arg::str("{}")}, "unknown flow 'NOPE'"},
        {"RegisterMessage", {Arg::str("ORDERS"), Arg::str("{}"), Arg::str("yes")}, "takes a Boolean here, got String"},
        {"RegisterMessage", {Arg::str("ORDERS"), Arg::str("{}"), Arg::none(), Arg::str("{\"colour\": 1}")}, "unknown field `colour`"},
        {"NextToForm", {Arg::r8(1.5), Arg::i4(30)}, "must be a whole number"},
        {"NextToForm", {Arg::i4(0), Arg::i4(30)}, "must be between 1 and"},
        {"Open", {Arg::str("{\"database\": 5}")}, "the settings is not valid JSON"},
        {"LoadConfiguration", {Arg::str("{\"flows\": [{\"code\": \"X\"}]}")}, "missing field `direction`"},
        {"CompleteForming", {Arg::str("no-such-id"), Arg::str("{}")}, "no message has id"},
    };
    for (auto &b : bad) {
        size_t before = o.connection.error_count();
        Result r = o.call(b.method, b.args);
        CHECK(!r.ok, "%s succeeded with bad input", b.method);
        CHECK(o.connection.error_count() == before + 1, "%s: no AddError", b.method);
        CHECK(contains(o.connection.last_error(), b.expected), "%s: \"%s\" lacks \"%s\"", b.method,
              o.connection.last_error().c_str(), b.expected);
        CHECK(o.property("ПоследняяОшибка") == o.connection.last_error(), "LastError differs from AddError");
        if (!o.connection.errors.empty()) {
            auto &e = o.connection.errors.back();
            CHECK(e.code == ADDIN_E_FAIL && e.scode != 0 && e.source == "Integra", "AddError arguments");
        }
    }
    // A call with the wrong number of parameters (the platform always passes GetNParams).
    long m = o.find("RegisterMessage");
    tVariant one;
    fill(one, Arg::str("ORDERS"));
    tVariant ret;
    std::memset(&ret, 0, sizeof ret);
    CHECK(!o.component->CallAsFunc(m, &ret, &one, 1), "a short call ran");
    CHECK(contains(o.connection.last_error(), "takes 4 parameters, got 1"), "%s", o.connection.last_error().c_str());
    CHECK(!o.component->CallAsFunc(m, &ret, nullptr, 4), "parameters announced and missing");
    release(one);
    // The platform refuses memory for a result: a failure, not a crash.
    memory.refuse = true;
    CHECK(!o.call("MetricsText", {}).ok, "a result was returned without memory");
    memory.refuse = false;
    CHECK(contains(o.connection.last_error(), "refused memory"), "%s", o.connection.last_error().c_str());

    // After Done: nothing runs, nothing touches the platform.
    o.done();
    tVariant v;
    std::memset(&v, 0, sizeof v);
    CHECK(!o.component->CallAsFunc(o.find("MetricsText"), &v, nullptr, 0), "a call ran after Done");
    CHECK(!o.component->GetPropVal(0, &v), "a property was read after Done");
    CHECK(o.connection.after_done == 0, "the add-in called the platform after Done");
    o.destroy();
}

// A port nothing listens on now.
static int free_port() {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t size = sizeof address;
    int port = -1;
    if (bind(fd, reinterpret_cast<sockaddr *>(&address), sizeof address) == 0 &&
        getsockname(fd, reinterpret_cast<sockaddr *>(&address), &size) == 0) {
        port = ntohs(address.sin_port);
    }
    close(fd);
    return port;
}

// Open settings of base `name` on `db`, serving the message exchange on `port`.
static std::string base_settings(const std::string &db, const std::string &name, int port) {
    return "{\"database\": \"" + db + "\", \"config\": {"
           "\"listeners\": [{\"code\": \"main\", \"address\": \"127.0.0.1:" + std::to_string(port) + "\","
           " \"exchange\": {\"auth\": {\"type\": \"basic\", \"username\": \"" + name + "\", \"password\": \"pw-" + name + "\"}}}],"
           "\"exchange\": {\"name\": \"" + name + "\"}}}";
}

// How another base reaches base `name` on `port`.
static std::string reach(const std::string &name, int port) {
    return "{\"url\": \"http://127.0.0.1:" + std::to_string(port) + "\", \"username\": \"" + name +
           "\", \"password\": \"pw-" + name + "\"}";
}

// The text of string field `name` in `json`.
static std::string field(const std::string &json, const std::string &name) {
    std::string key = "\"" + name + "\":\"";
    size_t start = json.find(key);
    if (start == std::string::npos) return "";
    start += key.size();
    return json.substr(start, json.find('"', start) - start);
}

// The message exchange (the SSL's «Обмен сообщениями»): two bases in this process, each
// serving the exchange, connect, send a quick message, deliver it, handle it through the
// pull API, and see it done on both sides; bad input is reported.
static void exchange(const std::string &dir) {
    int port_a = free_port(), port_b = free_port();
    Object a, b;
    a.create(true);
    b.create(false);
    CHECK(a.call("Open", {Arg::str(base_settings(dir + "/a.db", "A", port_a))}).ok, "Open A: %s", a.connection.last_error().c_str());
    CHECK(b.call("Открыть", {Arg::str(base_settings(dir + "/b.db", "B", port_b))}).ok, "Open B: %s", b.connection.last_error().c_str());
    CHECK(a.call("StartServer", {}, false).ok, "StartServer A: %s", a.connection.last_error().c_str());
    CHECK(b.call("ЗапуститьСервер", {}, false).ok, "StartServer B: %s", b.connection.last_error().c_str());

    Result endpoint = a.call("ПодключитьКонечнуюТочку", {Arg::str(reach("A", port_a)), Arg::str(reach("B", port_b)), Arg::str("Склад")});
    CHECK(endpoint.ok && contains(endpoint.text, "\"name\":\"Склад\""), "ConnectEndpoint: %s %s", endpoint.text.c_str(), a.connection.last_error().c_str());
    std::string code = field(endpoint.text, "code");
    Result at_b = b.call("КонечныеТочки", {});
    CHECK(at_b.ok && contains(at_b.text, "\"name\":\"A\""), "B's endpoints: %s", at_b.text.c_str());

    Result id = a.call("ОтправитьСообщениеСейчас", {Arg::str("заказы"), Arg::str("{\"n\": 1}"), Arg::str(code)});
    CHECK(id.ok && id.text.size() == 36, "SendMessageNow: %s", a.connection.last_error().c_str());
    Result report = a.call("ДоставитьСообщения", {});
    CHECK(report.ok && contains(report.text, "\"delivered\":1"), "DeliverMessages: %s", report.text.c_str());
    Result items = b.call("ПолучитьСообщенияОбмена", {Arg::i4(10), Arg::i4(60)});
    CHECK(items.ok && contains(items.text, id.text) && contains(items.text, "заказы"), "NextExchangeMessages: %s", items.text.c_str());
    CHECK(b.call("ПодтвердитьСообщениеОбмена", {Arg::str(id.text)}, false).ok, "AckExchangeMessage: %s", b.connection.last_error().c_str());
    Result dispatched = b.call("Dispatch", {Arg::r8(10), Arg::i4(10000)});
    CHECK(dispatched.ok && contains(dispatched.text, "\"exchanged\":1"), "B's Dispatch: %s", dispatched.text.c_str());
    Result done = a.call("ОтправленныеСообщения", {Arg::str("done")});
    CHECK(done.ok && contains(done.text, id.text), "done at A: %s", done.text.c_str());

    // Bad input: the error names what was wrong.
    CHECK(!a.call("SendMessage", {Arg::str("x"), Arg::str("{}"), Arg::str("nobody")}).ok, "sent to nobody");
    CHECK(contains(a.connection.last_error(), "'nobody'"), "%s", a.connection.last_error().c_str());
    CHECK(!a.call("ConnectEndpoint", {Arg::str(reach("A", port_a)), Arg::str(reach("B", 1))}).ok, "connected to nothing");
    CHECK(contains(a.connection.last_error(), "this base → recipient"), "%s", a.connection.last_error().c_str());
    CHECK(!b.call("ReceivedExchangeMessages", {Arg::str("lost")}).ok, "a status that does not exist");
    CHECK(contains(b.connection.last_error(), "lost"), "%s", b.connection.last_error().c_str());

    a.done();
    a.destroy();
    b.done();
    b.destroy();
}

// Objects on threads: one per session, all on one database, calls at once; one object
// called from several threads in turn; background threads gone when the last one goes.
static void sessions(const std::string &dir, const std::string &url) {
    int threads_before = thread_count();
    const int sessions = 4, each = 25;
    std::vector<std::thread> workers;
    std::atomic<int> registered{0};
    Object first;
    first.create(true);
    CHECK(first.call("Open", {Arg::str(open_settings(dir + "/shared.db", url))}).ok, "Open");
    CHECK(first.call("StartDispatcher", {Arg::i4(2)}, false).ok, "StartDispatcher: %s", first.connection.last_error().c_str());
    for (int s = 0; s < sessions; s++) {
        workers.emplace_back([&, s] {
            Object o;
            o.create(s % 2 == 0);
            CHECK(o.call("Открыть", {Arg::str("{\"database\": \"" + dir + "/shared.db\"}")}).ok, "Open in a session");
            for (int i = 0; i < each; i++) {
                Result id = o.call("RegisterMessage", {Arg::str("Заказы"), Arg::str("{\"s\": " + std::to_string(s) + ", \"i\": " + std::to_string(i) + "}")});
                if (id.ok) registered++;
            }
            o.done();
            o.destroy();
        });
    }
    for (auto &w : workers) w.join();
    CHECK(registered == sessions * each, "%d registered", registered.load());
    // One object, called from several threads one after another.
    for (int t = 0; t < 3; t++) {
        std::thread([&] {
            Result r = first.call("MetricsText", {});
            CHECK(r.ok, "a call from another thread");
        }).join();
    }
    first.done();
    first.destroy();
    CHECK(thread_count() <= threads_before, "threads left running: %d before, %d after", threads_before, thread_count());
}

int main(int argc, char **argv) {
    if (argc < 4) {
        std::fprintf(stderr, "usage: %s <library> <scratch dir> <URL> [quick]\n", argv[0]);
        return 100;
    }
    void *library = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
    if (library == nullptr) {
        std::fprintf(stderr, "dlopen: %s\n", dlerror());
        return 100;
    }
    get_class_names = reinterpret_cast<GetClassNamesPtr>(dlsym(library, "GetClassNames"));
    get_class_object = reinterpret_cast<GetClassObjectPtr>(dlsym(library, "GetClassObject"));
    destroy_object = reinterpret_cast<DestroyObjectPtr>(dlsym(library, "DestroyObject"));
    set_platform_capabilities = reinterpret_cast<SetPlatformCapabilitiesPtr>(dlsym(library, "SetPlatformCapabilities"));
    get_attach_type = reinterpret_cast<GetAttachTypePtr>(dlsym(library, "GetAttachType"));
    if (!get_class_names || !get_class_object || !destroy_object || !set_platform_capabilities || !get_attach_type) {
        std::fprintf(stderr, "an export is missing\n");
        return 100;
    }
    std::string dir = argv[2], url = argv[3];
    bool quick = argc > 4 && std::string(argv[4]) == "quick";
    attach();
    names();
    cycle(dir, url);
    exchange(dir);
    if (!quick) sessions(dir, url);
    CHECK(memory.outstanding() == 0, "%zu platform allocations were never freed", memory.outstanding());
    CHECK(memory.foreign_frees == 0, "%d frees of memory the platform did not give", memory.foreign_frees.load());
    std::printf("host: %s\n", failures == 0 ? "all checks passed" : "checks failed");
    return failures.load();
}
