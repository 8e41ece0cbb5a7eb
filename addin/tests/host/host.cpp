// A test host that plays the 1C platform for Integra's add-in: it loads the library with
// dlopen and calls it through real C++ virtual calls, declared in include/integra_native_api.h,
// as the platform's compiled C++ does. It provides a memory manager that tracks every
// allocation and free, and a connection that records AddError and traps any call after
// Done. Checks print "FAIL ..." lines; the exit code is the number of failures.
//
// Usage: host <library> <scratch directory> <subscriber base URL> [quick | sweep [long units]]

#include <arpa/inet.h>
#include <dlfcn.h>
#include <dirent.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <climits>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <sstream>
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
        return take(p, bytes);
    }
    // The host's own allocation of an argument: never refused.
    bool take(void **p, unsigned long bytes) {
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
    memory.take(&p, (s.size() + (terminate ? 1 : 0)) * sizeof(WCHAR_T));
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
    enum Kind { Empty, Text, Unterminated, I4, R8, Bool, Blob, Date, Tm } kind = Empty;
    // Text and Unterminated: the string's UTF-16 units (any, unpaired surrogates too);
    // Blob: the bytes, one per unit.
    std::u16string units;
    double number = 0;
    bool flag = false;
    static Arg of(Kind kind, double number = 0) {
        Arg a;
        a.kind = kind;
        a.number = number;
        return a;
    }
    static Arg utf16(const std::u16string &units) { Arg a = of(Text); a.units = units; return a; }
    static Arg str(const std::string &s) { return utf16(::utf16(s)); }
    static Arg bare(const std::string &s) { Arg a = str(s); a.kind = Unterminated; return a; }
    static Arg i4(int n) { return of(I4, n); }
    static Arg r8(double n) { return of(R8, n); }
    static Arg boolean(bool b) { Arg a = of(Bool); a.flag = b; return a; }
    static Arg none() { return of(Empty); }
    static Arg blob(const std::string &bytes) { Arg a = of(Blob); a.units.assign(bytes.begin(), bytes.end()); return a; }
    // A date as an OLE automation day number (VTYPE_DATE).
    static Arg date(double days) { return of(Date, days); }
    // A date as the platform passes one (VTYPE_TM, 2024-05-10).
    static Arg tm() { return of(Tm); }
};

static void fill(tVariant &v, const Arg &a) {
    std::memset(&v, 0, sizeof v);
    switch (a.kind) {
        case Arg::Empty: v.vt = VTYPE_EMPTY; break;
        case Arg::Text:
        case Arg::Unterminated:
            v.pwstrVal = platform_string(a.units, a.kind == Arg::Text);
            v.wstrLen = uint32_t(a.units.size());
            v.vt = VTYPE_PWSTR;
            break;
        case Arg::I4: v.lVal = int32_t(a.number); v.vt = VTYPE_I4; break;
        case Arg::R8: v.dblVal = a.number; v.vt = VTYPE_R8; break;
        case Arg::Bool: v.bVal = a.flag; v.vt = VTYPE_BOOL; break;
        case Arg::Blob: {
            void *p = nullptr;
            memory.take(&p, a.units.size());
            for (size_t i = 0; i < a.units.size(); i++) static_cast<char *>(p)[i] = char(a.units[i]);
            v.pstrVal = static_cast<char *>(p);
            v.strLen = uint32_t(a.units.size());
            v.vt = VTYPE_BLOB;
            break;
        }
        case Arg::Date: v.date = a.number; v.vt = VTYPE_DATE; break;
        case Arg::Tm:
            v.tmVal.tm_year = 124;
            v.tmVal.tm_mon = 4;
            v.tmVal.tm_mday = 10;
            v.vt = VTYPE_TM;
            break;
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
        return invoke(m, args, as_function && component->HasRetVal(m));
    }

    // Calls method number `m` with the arguments given and defaults for the rest: through
    // CallAsFunc when `function`, else CallAsProc.
    Result invoke(long m, const std::vector<Arg> &args, bool function) {
        long n = component->GetNParams(m);
        std::vector<tVariant> params(size_t(n > 0 ? n : 0));
        for (long i = 0; i < n; i++) {
            if (size_t(i) < args.size()) {
                fill(params[size_t(i)], args[size_t(i)]);
            } else {
                std::memset(&params[size_t(i)], 0, sizeof(tVariant));
                CHECK(component->GetParamDefValue(m, i, &params[size_t(i)]),
                      "method %ld: no default for parameter %ld", m, i);
            }
        }
        Result r;
        tVariant ret;
        std::memset(&ret, 0, sizeof ret);
        if (function) {
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

// The whole cycle on database `db` (a file, or a PostgreSQL URL), then every kind of bad
// input.
static std::string field(const std::string &json, const std::string &name);

static void cycle(const std::string &db, const std::string &url) {
    Object o;
    o.create(false);
    CHECK(!o.call("RegisterMessage", {Arg::str("ORDERS"), Arg::str("{}")}).ok, "registered before Open");
    CHECK(contains(o.property("LastError"), "call Open first"), "%s", o.property("LastError").c_str());
    CHECK(o.call("Open", {Arg::str(open_settings(db, url))}).ok, "Open: %s", o.connection.last_error().c_str());
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
    Result started = o.call("StartDispatcher", {});
    CHECK(started.ok && started.vt == VTYPE_BOOL && started.flag, "StartDispatcher: %s", o.connection.last_error().c_str());
    // Issue 22: starting the dispatcher that runs succeeds and says so (a scheduled job
    // calls it at each run), as a procedure and as a function, from any object on the base.
    CHECK(o.call("ЗапуститьОтправку", {Arg::i4(2)}, false).ok, "StartDispatcher again: %s", o.connection.last_error().c_str());
    Result again = o.call("StartDispatcher", {});
    CHECK(again.ok && again.vt == VTYPE_BOOL && !again.flag, "StartDispatcher again said it started: %s", o.connection.last_error().c_str());
    {
        Object session;
        session.create(true);
        CHECK(session.call("Открыть", {Arg::str("{\"database\": \"" + db + "\"}")}).ok, "Open in a session: %s", session.connection.last_error().c_str());
        Result shared = session.call("ЗапуститьОтправку", {});
        CHECK(shared.ok && shared.vt == VTYPE_BOOL && !shared.flag, "a session started a second dispatcher: %s", session.connection.last_error().c_str());
        session.done();
        session.destroy();
    }
    Result stopped = o.call("StopDispatcher", {});
    CHECK(stopped.ok && stopped.vt == VTYPE_BOOL && stopped.flag, "StopDispatcher");
    Result accepted = o.call("ПринятьСообщение", {Arg::str("IN"), Arg::str("m-1"), Arg::str("{\"x\": 1}")});
    CHECK(accepted.ok && contains(accepted.text, "\"duplicate\":false"), "AcceptIncoming: %s", accepted.text.c_str());
    // What an operator's report reads, and a failed incoming message re-driven.
    Result listed = o.call("СписокСообщений", {Arg::str("{\"flow\": \"ORDERS\", \"limit\": 1}")});
    CHECK(listed.ok && contains(listed.text, id.text) && contains(listed.text, "\"seq\":"), "ListMessages: %s", listed.text.c_str());
    Result latest = o.call("ListMessages", {});
    CHECK(latest.ok && contains(latest.text, id.text), "ListMessages(): %s", latest.text.c_str());
    Result counts = o.call("КоличестваПоСтатусам", {});
    CHECK(counts.ok && contains(counts.text, "\"queue\":\"incoming\",\"flow\":\"IN\",\"status\":\"new\",\"count\":1"), "Counts: %s", counts.text.c_str());
    Result health = o.call("СостояниеПодписчиков", {});
    CHECK(health.ok && contains(health.text, "{\"subscriber\":\"shop\",\"last_success_at\":"), "SubscriberHealth: %s", health.text.c_str());
    std::string incoming_id = field(accepted.text, "id");
    Result taken = o.call("NextIncoming", {Arg::i4(10), Arg::r8(60.0)});
    CHECK(taken.ok && contains(taken.text, incoming_id), "NextIncoming: %s", taken.text.c_str());
    CHECK(o.call("ОшибкаОбработкиВходящего", {Arg::str(incoming_id), Arg::str("the handler broke")}, false).ok, "FailIncoming: %s", o.connection.last_error().c_str());
    Result incoming = o.call("СтатусВходящего", {Arg::str(incoming_id)});
    CHECK(incoming.ok && contains(incoming.text, "the handler broke"), "IncomingStatus: %s", incoming.text.c_str());
    Result listed_incoming = o.call("СписокВходящих", {Arg::str("{\"flow\": \"IN\"}")});
    CHECK(listed_incoming.ok && contains(listed_incoming.text, incoming_id), "ListIncoming: %s", listed_incoming.text.c_str());
    Result redriven = o.call("ПовторитьОбработкуВходящих", {Arg::str("{\"flow\": \"IN\"}"), Arg::str("fixed")});
    CHECK(redriven.ok && redriven.vt == VTYPE_I4 && redriven.number == 1, "RetryIncoming: %s", o.connection.last_error().c_str());
    Result cleaned = o.call("Cleanup", {});
    CHECK(cleaned.ok && cleaned.vt == VTYPE_I4 && cleaned.number == 0, "Cleanup");
    Result checked = o.call("ПроверитьЦелостность", {});
    CHECK(checked.ok && contains(checked.text, "\"ok\":true"), "CheckIntegrity: %s", checked.text.c_str());
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
    // A string with an unpaired surrogate is refused, not repaired into U+FFFD: repaired,
    // "k\xD800" and "k\xDC00" would be one key (issue 15).
    CHECK(o.call("SetExternalId", {Arg::str("shop"), Arg::str("order"), Arg::str("k-ok"), Arg::str("E-1")}).ok,
          "SetExternalId: %s", o.connection.last_error().c_str());
    CHECK(!o.call("SetExternalId", {Arg::str("shop"), Arg::str("order"), Arg::utf16(u"k\xd800"), Arg::str("E-2")}).ok,
          "a key with an unpaired surrogate was taken");
    CHECK(contains(o.connection.last_error(), "invalid localKey: is not valid text: it holds an unpaired UTF-16 surrogate at unit 1"),
          "%s", o.connection.last_error().c_str());
    Result found = o.call("GetExternalId", {Arg::str("shop"), Arg::str("order"), Arg::utf16(u"k\xdc00")});
    CHECK(!found.ok && contains(o.connection.last_error(), "unpaired UTF-16 surrogate"), "another broken key was looked up");
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
    // A call that writes and returns a value writes nothing when the memory for its result
    // cannot be had: BSL that retries registers one message, not two, and a claim is given
    // back with its attempt uncounted (issue 15).
    memory.refuse = true;
    CHECK(!o.call("RegisterMessage", {Arg::str("ORDERS"), Arg::str("{\"ref\": \"refused\"}"), Arg::boolean(false), Arg::str("")}).ok,
          "registered without memory for the id");
    memory.refuse = false;
    CHECK(contains(o.connection.last_error(), "nothing was written"), "%s", o.connection.last_error().c_str());
    Result retried = o.call("RegisterMessage", {Arg::str("ORDERS"), Arg::str("{\"ref\": \"retried\"}")});
    CHECK(retried.ok, "RegisterMessage: %s", o.connection.last_error().c_str());
    memory.refuse = true;
    CHECK(!o.call("NextToForm", {Arg::i4(10), Arg::i4(60)}).ok, "claimed without memory for the result");
    memory.refuse = false;
    Result claimed = o.call("NextToForm", {Arg::i4(10), Arg::i4(60)});
    CHECK(claimed.ok && contains(claimed.text, retried.text) && !contains(claimed.text, "refused") &&
              contains(claimed.text, "\"attempt\":1"),
          "NextToForm after a refused one: %s", claimed.text.c_str());

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
    // Issue 22: starting the server that runs succeeds and says so; other settings are refused.
    Result again = a.call("ЗапуститьСервер", {});
    CHECK(again.ok && again.vt == VTYPE_BOOL && !again.flag, "StartServer again: %s", a.connection.last_error().c_str());
    CHECK(!a.call("StartServer", {Arg::str("{\"sources\": false}")}).ok, "StartServer with other settings");
    CHECK(contains(a.connection.last_error(), "with other listeners or sources"), "%s", a.connection.last_error().c_str());

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

// The log (issue 15): an object opens with a log in its settings; a delivery that ends dead
// is a line of the file, an object asking for another log is refused while it is in use,
// and when the last object that named it is done the file is closed.
static std::string read_file(const std::string &path) {
    std::ifstream in(path);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
}

// How many of this process's descriptors are open on `path`.
static int open_descriptors(const std::string &path) {
    int n = 0;
    DIR *d = opendir("/proc/self/fd");
    if (d == nullptr) return -1;
    while (dirent *e = readdir(d)) {
        char target[4096];
        std::string link = std::string("/proc/self/fd/") + e->d_name;
        ssize_t len = readlink(link.c_str(), target, sizeof target - 1);
        if (len > 0 && std::string(target, size_t(len)) == path) n++;
    }
    closedir(d);
    return n;
}

static std::string log_settings(const std::string &db, const std::string &log, const std::string &level) {
    return "{\"database\": \"" + db + "\", \"log\": {\"file\": \"" + log + "\", \"level\": \"" + level + "\"},"
           " \"config\": {\"endpoints\": [{\"code\": \"nowhere\", \"base_url\": \"http://127.0.0.1:9\"}],"
           "\"subscribers\": [{\"code\": \"nowhere\", \"kind\": \"http\", \"endpoint\": \"nowhere\","
           " \"retry\": {\"max_attempts\": 1}}],"
           "\"flows\": [{\"code\": \"ORDERS\", \"direction\": \"outgoing\", \"subscribers\": [\"nowhere\"]}]}}";
}

static void logs(const std::string &dir) {
    std::string log = dir + "/addin.log";
    Object o, other;
    o.create(true);
    other.create(false);
    CHECK(o.call("Открыть", {Arg::str(log_settings(dir + "/logs.db", log, "debug"))}).ok, "Open with a log: %s",
          o.connection.last_error().c_str());
    Result id = o.call("RegisterMessage", {Arg::str("ORDERS"), Arg::str("{\"n\": 1}")});
    CHECK(id.ok, "RegisterMessage: %s", o.connection.last_error().c_str());
    Result report = o.call("Dispatch", {Arg::i4(10), Arg::i4(10000)});
    CHECK(report.ok && contains(report.text, "\"dead\":1"), "Dispatch: %s", report.text.c_str());
    std::string text = read_file(log);
    CHECK(contains(text, " INFO  integra_core::json_api::log_file: log opened"), "no opening line in the log: %s", text.c_str());
    CHECK(contains(text, " WARN  integra_core::dispatch: delivery is dead after 1 attempts") &&
              contains(text, " flow=ORDERS subscriber=nowhere message=" + id.text + " attempt=1"),
          "no line for the dead delivery in the log: %s", text.c_str());
    CHECK(!other.call("Open", {Arg::str(log_settings(dir + "/other.db", log, "info"))}).ok, "another log was opened");
    CHECK(contains(other.connection.last_error(), "invalid log: this process logs to"), "%s",
          other.connection.last_error().c_str());
    CHECK(open_descriptors(log) == 1, "%d descriptors on the log while it is in use", open_descriptors(log));
    o.done();
    o.destroy();
    other.done();
    other.destroy();
    CHECK(open_descriptors(log) == 0, "the log is still open after the last object: %d", open_descriptors(log));
    CHECK(contains(read_file(log), "log closed"), "no closing line in the log");
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

// ---- The sweep: every method, property and lookup, with every kind of wrong input ----
//
// Issue 10: the add-in never crashes its host. The methods are enumerated through the
// Native API itself (GetNMethods, GetMethodName, GetNParams, HasRetVal), so a method added
// to the table is swept without a change here.

static int sweep_calls = 0;
// The length of the long strings the sweep passes, in units: 1 MB of text, and JSON nested
// as deep, by default; less under valgrind, which runs the add-in some fifty times slower.
static size_t long_units = 1 << 20;

// A method as the platform sees it.
struct MethodInfo {
    long index;
    std::string name;
    long params;
    bool function;
};

static std::vector<MethodInfo> method_table(IComponentBase *c) {
    std::vector<MethodInfo> all;
    for (long i = 0; i < c->GetNMethods(); i++) {
        const WCHAR_T *name = c->GetMethodName(i, 0);
        all.push_back({i, utf8(name), c->GetNParams(i), c->HasRetVal(i)});
        void *owned = const_cast<WCHAR_T *>(name);
        memory.FreeMemory(&owned);
    }
    return all;
}

// What a BSL author can pass by mistake: each goes into every position of every method.
static const std::vector<std::pair<const char *, Arg>> &wrong_values() {
    static const std::vector<std::pair<const char *, Arg>> values = {
        {"Undefined", Arg::none()},
        {"a Number", Arg::i4(7)},
        {"a negative Number", Arg::i4(-1)},
        {"a fraction", Arg::r8(0.5)},
        {"a huge Number", Arg::r8(1e300)},
        {"NaN", Arg::r8(std::nan(""))},
        {"a Boolean", Arg::boolean(true)},
        {"BinaryData", Arg::blob(std::string("\0\xff", 2))},
        {"a Date (VTYPE_DATE)", Arg::date(45422.5)},
        {"a Date (VTYPE_TM)", Arg::tm()},
        {"an empty String", Arg::str("")},
        {"a long String", Arg::str(std::string(long_units, 'x'))},
        {"unpaired surrogates", Arg::utf16(u"\xdc00{\xd800")},
        {"not JSON", Arg::str("{oops")},
        {"JSON nested too deep", Arg::str(std::string(long_units, '['))},
        {"an unterminated String", Arg::bare("{}")},
    };
    return values;
}

// `call` returned; a failure was reported once through AddError and kept as LastError, a
// success reported nothing and cleared LastError.
static void expect_reported(Object &o, const std::string &what, const std::function<bool()> &call) {
    size_t before = o.connection.error_count();
    bool ok = call();
    sweep_calls++;
    size_t reported = o.connection.error_count() - before;
    std::string last = o.property("LastError");
    if (ok) {
        CHECK(reported == 0 && last.empty(), "%s succeeded but reported \"%.200s\"", what.c_str(), last.c_str());
    } else {
        CHECK(reported == 1, "%s failed with %zu AddError calls", what.c_str(), reported);
        CHECK(!last.empty() && last == o.connection.last_error(), "%s: LastError \"%.200s\" is not what AddError got",
              what.c_str(), last.c_str());
    }
}

// Arguments of the types method `m` takes, learned as a BSL author would, from the error
// each other type gets ("takes a Number here, got String"). Parameters are converted in
// order, so with those before `p` right and those after it Undefined, a wrong candidate at
// `p` is the only error naming the candidate's type. `o` has no engine open, so every one
// of these calls is also a call before Open.
static std::vector<Arg> well_typed(Object &o, const MethodInfo &m) {
    std::vector<Arg> args(size_t(m.params), Arg::none());
    const std::pair<const char *, Arg> candidates[] = {
        {"String", Arg::str("x")}, {"Number", Arg::i4(1)}, {"Boolean", Arg::boolean(false)}};
    for (size_t p = 0; p < args.size(); p++) {
        for (auto &candidate : candidates) {
            args[p] = candidate.second;
            expect_reported(o, m.name + " before Open", [&] { return o.invoke(m.index, args, m.function).ok; });
            if (!contains(o.property("LastError"), std::string("here, got ") + candidate.first)) break;
        }
    }
    return args;
}

// Lookups and counts with numbers and names out of range; property reads and writes with
// every value.
static void sweep_lookups(Object &o, const std::vector<MethodInfo> &methods) {
    IComponentBase *c = o.component;
    long n = long(methods.size()), props = c->GetNProps();
    tVariant v;
    for (long bad : {LONG_MIN, -1L, n, LONG_MAX}) {
        std::memset(&v, 0, sizeof v);
        CHECK(c->GetMethodName(bad, 0) == nullptr && c->GetNParams(bad) == 0 && !c->HasRetVal(bad), "method %ld", bad);
        CHECK(!c->GetParamDefValue(bad, 0, &v), "a default of method %ld", bad);
        sweep_calls += 4;
    }
    for (auto &m : methods) {
        for (long p = -1; p <= m.params + 1; p++) {
            std::memset(&v, 0, sizeof v);
            bool has = c->GetParamDefValue(m.index, p, &v);
            CHECK(!has || (p >= 0 && p < m.params), "%s has a default for parameter %ld", m.name.c_str(), p);
            if (has) take(v);
            CHECK(!c->GetParamDefValue(m.index, p, nullptr), "%s wrote a default to NULL", m.name.c_str());
            sweep_calls += 2;
        }
        CHECK(c->GetMethodName(m.index, LONG_MIN) == nullptr && c->GetMethodName(m.index, 2) == nullptr, "alias");
        sweep_calls += 2;
    }
    for (long i : {LONG_MIN, -1L, 0L, props - 1, props, LONG_MAX}) {
        bool exists = i >= 0 && i < props;
        std::memset(&v, 0, sizeof v);
        bool read = c->GetPropVal(i, &v);
        CHECK(read == exists, "GetPropVal(%ld)", i);
        if (read) take(v);
        CHECK(!c->GetPropVal(i, nullptr), "GetPropVal(%ld) wrote to NULL", i);
        CHECK(c->IsPropReadable(i) == exists && !c->IsPropWritable(i), "property %ld access", i);
        const WCHAR_T *name = c->GetPropName(i, 0);
        CHECK((name != nullptr) == exists, "GetPropName(%ld)", i);
        void *owned = const_cast<WCHAR_T *>(name);
        memory.FreeMemory(&owned);
        CHECK(!c->SetPropVal(i, nullptr), "SetPropVal(%ld, NULL)", i);
        sweep_calls += 6;
        for (auto &wrong : wrong_values()) {
            tVariant in;
            fill(in, wrong.second);
            CHECK(!c->SetPropVal(i, &in), "property %ld was set to %s", i, wrong.first);
            release(in);
            sweep_calls++;
        }
    }
    std::u16string huge(1 << 20, u'x');
    std::vector<std::u16string> garbage = {u"", u"\xd800", u"Open\xdc00", u"Open ", u"ОткрытьX", huge + u"Open"};
    for (auto &name : garbage) {
        auto z = reinterpret_cast<const WCHAR_T *>(name.c_str());
        CHECK(c->FindMethod(z) == -1 && c->FindProp(z) == -1, "a garbage name of %zu units was found", name.size());
        sweep_calls += 2;
    }
    // A name exactly as long as the add-in reads, with no terminator: ASan sees any over-read.
    WCHAR_T *bare = platform_string(huge, false);
    CHECK(c->FindMethod(bare) == -1 && c->FindProp(bare) == -1, "an unterminated name was found");
    memory.FreeMemory(reinterpret_cast<void **>(&bare));
    CHECK(c->FindMethod(nullptr) == -1 && c->FindProp(nullptr) == -1, "a NULL name was found");
    sweep_calls += 4;
}

// Calls whose frame the platform would never build: no place for the result, parameters
// announced and missing, a negative count, one parameter too many, no such method.
static void sweep_frames(Object &o, const MethodInfo &m) {
    IComponentBase *c = o.component;
    std::vector<tVariant> params(size_t(m.params + 1));
    for (auto &p : params) fill(p, Arg::none());
    std::string name = m.name;
    expect_reported(o, name + " with no place for the result", [&] { return c->CallAsFunc(m.index, nullptr, params.data(), m.params); });
    tVariant ret;
    std::memset(&ret, 0, sizeof ret);
    if (m.params > 0) {
        expect_reported(o, name + " with parameters missing", [&] { return c->CallAsFunc(m.index, &ret, nullptr, m.params); });
    }
    expect_reported(o, name + " with -1 parameters", [&] { return c->CallAsProc(m.index, params.data(), -1); });
    expect_reported(o, name + " with a parameter too many", [&] { return c->CallAsProc(m.index, params.data(), m.params + 1); });
    expect_reported(o, "method LONG_MIN", [&] { return c->CallAsFunc(LONG_MIN, &ret, nullptr, 0); });
    if (ret.vt != VTYPE_EMPTY) take(ret);
}

static void sweep(const std::string &dir) {
    Object o;
    o.create(true);
    auto methods = method_table(o.component);
    CHECK(methods.size() > 40, "only %zu methods", methods.size());
    // Before Open: every method, well typed, fails and says why (an argument's shape, or that
    // no engine is open), through CallAsFunc and CallAsProc alike.
    std::vector<std::vector<Arg>> typed;
    for (auto &m : methods) {
        typed.push_back(well_typed(o, m));
        for (bool function : {true, false}) {
            bool ok = false;
            expect_reported(o, m.name + " before Open", [&] { return ok = o.invoke(m.index, typed.back(), function).ok; });
            std::string error = o.property("LastError");
            CHECK(!ok && !contains(error, "here, got"), "%s before Open: %s", m.name.c_str(), error.c_str());
        }
    }
    // Open: each wrong value in each position, the rest well typed.
    std::string settings = "{\"database\": \"" + dir + "/sweep.db\", \"config\": {\"flows\": [{\"code\": \"x\","
                           " \"direction\": \"outgoing\", \"former\": \"external\"}]}}";
    for (size_t i = 0; i < methods.size(); i++) {
        auto &m = methods[i];
        CHECK(o.call("Open", {Arg::str(settings)}).ok, "Open: %s", o.connection.last_error().c_str());
        for (size_t p = 0; p < typed[i].size(); p++) {
            for (auto &wrong : wrong_values()) {
                auto args = typed[i];
                args[p] = wrong.second;
                std::string what = m.name + " with " + wrong.first + " in position " + std::to_string(p);
                expect_reported(o, what, [&] { return o.invoke(m.index, args, m.function).ok; });
            }
        }
        sweep_frames(o, m);
    }
    sweep_lookups(o, methods);
    o.call("StopDispatcher", {});
    o.call("StopServer", {});
    o.done();
    o.destroy();
    std::printf("host: the sweep made %d calls on %zu methods\n", sweep_calls, methods.size());
}

int main(int argc, char **argv) {
    if (argc < 4) {
        std::fprintf(stderr, "usage: %s <library> <scratch dir> <URL> [quick | sweep [long units] | cycle <database>]\n", argv[0]);
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
    std::string mode = argc > 4 ? argv[4] : "";
    if (mode == "sweep") {
        if (argc > 5) long_units = std::strtoul(argv[5], nullptr, 10);
        sweep(dir);
    } else if (mode == "cycle" && argc > 5) {
        // The cycle alone, on the database given (the PostgreSQL store, say).
        attach();
        cycle(argv[5], url);
    } else {
        attach();
        names();
        cycle(dir + "/cycle.db", url);
        exchange(dir);
        logs(dir);
        if (mode != "quick") sessions(dir, url);
    }
    CHECK(memory.outstanding() == 0, "%zu platform allocations were never freed", memory.outstanding());
    CHECK(memory.foreign_frees == 0, "%d frees of memory the platform did not give", memory.foreign_frees.load());
    std::printf("host: %s\n", failures == 0 ? "all checks passed" : "checks failed");
    return failures.load();
}
