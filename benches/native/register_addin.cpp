// Goal G12 through the add-in: the latency of one `RegisterMessage` call as 1C's compiled
// C++ sees it. The library is loaded with dlopen and driven through real virtual calls
// (include/integra_native_api.h) the way the platform drives it: the attach phase, the
// object created with GetClassObject, setMemManager, Init, GetInfo, RegisterExtensionAs;
// `Open` with a pass-through flow on a fresh database (no dispatcher runs, nothing is sent);
// then FindMethod once and, per call, the parameters filled as the platform fills them
// (UTF-16 strings in platform memory, omitted trailing ones from GetParamDefValue),
// CallAsFunc, the returned id read and freed with the memory manager, the parameters
// freed. Only CallAsFunc is timed, with clock_gettime(CLOCK_MONOTONIC).
//
// Usage: register_addin <library path> <database path> <calls> <warmup calls>
// Prints one line of JSON: {"calls": N, "p50_us": x, "p99_us": y, "max_us": z,
// "per_second": w}, per_second being calls / the sum of the timed call times. Percentiles
// are nearest-rank. Exits 2 when a call fails (the add-in's error on stderr), 3 when
// platform memory was leaked or freed twice, 1 on bad usage or a library that does not load.

#include <dlfcn.h>
#include <time.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string>
#include <vector>

#include "integra_native_api.h"
#include "order.h"
#include "utf16.hpp"

static const WCHAR_T *wide(const std::u16string &s) {
    return reinterpret_cast<const WCHAR_T *>(s.c_str());
}

// ---- The platform's memory manager: malloc and free, live allocations counted -------

class Memory : public IMemoryManager {
public:
    std::atomic<long> live{0};
    std::atomic<long> bad_frees{0};

    bool AllocMemory(void **p, unsigned long bytes) override {
        *p = std::malloc(bytes == 0 ? 1 : bytes);
        if (*p == nullptr) return false;
        live++;
        return true;
    }
    void FreeMemory(void **p) override {
        if (p == nullptr || *p == nullptr) return;
        if (live-- <= 0) bad_frees++;
        std::free(*p);
        *p = nullptr;
    }
};

static Memory memory;

// ---- The platform's side of an object: keeps the last error, prints each one --------

class Connection : public IAddInDefBaseEx {
public:
    std::mutex lock;
    std::string last_error;

    bool AddError(unsigned short wcode, const WCHAR_T *source, const WCHAR_T *descr, long scode) override {
        std::string text = utf8(descr);
        std::fprintf(stderr, "register_addin: AddError(%u, %s, scode %ld): %s\n", unsigned(wcode),
                     utf8(source).c_str(), scode, text.c_str());
        std::lock_guard<std::mutex> g(lock);
        last_error = text;
        return true;
    }
    // The add-in uses nothing but AddError.
    bool Read(WCHAR_T *, tVariant *, long *, WCHAR_T **) override { return false; }
    bool Write(WCHAR_T *, tVariant *) override { return false; }
    bool RegisterProfileAs(WCHAR_T *) override { return false; }
    bool SetEventBufferDepth(long) override { return false; }
    long GetEventBufferDepth() override { return 1; }
    bool ExternalEvent(WCHAR_T *, WCHAR_T *, WCHAR_T *) override { return false; }
    void CleanEventBuffer() override {}
    bool SetStatusLine(WCHAR_T *) override { return false; }
    void ResetStatusLine() override {}
    IInterface *GetInterface(Interfaces) override { return nullptr; }

    std::string error() {
        std::lock_guard<std::mutex> g(lock);
        return last_error.empty() ? std::string("(no error reported)") : last_error;
    }
};

// ---- Arguments as the platform passes them ------------------------------------------

// A string argument: a copy of `units` in platform memory, NUL-terminated, its length in
// units. False when the memory manager refuses.
static bool fill_string(tVariant &v, const std::u16string &units) {
    std::memset(&v, 0, sizeof v);
    void *p = nullptr;
    if (!memory.AllocMemory(&p, (units.size() + 1) * sizeof(WCHAR_T))) return false;
    std::memcpy(p, units.data(), units.size() * sizeof(WCHAR_T));
    static_cast<WCHAR_T *>(p)[units.size()] = 0;
    v.pwstrVal = static_cast<WCHAR_T *>(p);
    v.wstrLen = uint32_t(units.size());
    v.vt = VTYPE_PWSTR;
    return true;
}

// Frees what a variant holds in platform memory.
static void release(tVariant &v) {
    if ((v.vt == VTYPE_PWSTR || v.vt == VTYPE_BLOB || v.vt == VTYPE_PSTR) && v.pstrVal != nullptr) {
        memory.FreeMemory(reinterpret_cast<void **>(&v.pstrVal));
    }
    std::memset(&v, 0, sizeof v);
}

// Fills `params` (GetNParams entries) for method `m` from `given`, the rest from
// GetParamDefValue, as the platform does for omitted trailing arguments.
static bool prepare(IComponentBase *c, long m, std::vector<tVariant> &params,
                    const std::vector<const std::u16string *> &given) {
    for (size_t i = 0; i < params.size(); i++) {
        if (i < given.size()) {
            if (!fill_string(params[i], *given[i])) return false;
        } else {
            std::memset(&params[i], 0, sizeof(tVariant));
            if (!c->GetParamDefValue(m, long(i), &params[i])) return false;
        }
    }
    return true;
}

// ---- Measuring ----------------------------------------------------------------------

static int64_t nanoseconds() {
    timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return int64_t(t.tv_sec) * 1000000000 + t.tv_nsec;
}

// The nearest-rank percentile `percent` (1..100) of sorted samples, in microseconds: the
// sample at rank ceil(percent / 100 * n).
static double percentile_us(const std::vector<int64_t> &sorted, size_t percent) {
    size_t rank = (sorted.size() * percent + 99) / 100;
    if (rank < 1) rank = 1;
    return double(sorted[rank - 1]) / 1000.0;
}

static bool parse_count(const char *text, size_t &out) {
    char *end = nullptr;
    errno = 0;
    unsigned long long n = std::strtoull(text, &end, 10);
    if (errno != 0 || end == text || *end != '\0' || text[0] == '-' || n > SIZE_MAX / 2) return false;
    out = size_t(n);
    return true;
}

// `text` as the inside of a JSON string.
static std::string json_escaped(const std::string &text) {
    std::string out;
    for (unsigned char c : text) {
        if (c == '"' || c == '\\') {
            out.push_back('\\');
            out.push_back(char(c));
        } else if (c < 0x20) {
            char buffer[8];
            std::snprintf(buffer, sizeof buffer, "\\u%04x", unsigned(c));
            out += buffer;
        } else {
            out.push_back(char(c));
        }
    }
    return out;
}

static int fail(Connection &connection, const char *what) {
    std::fprintf(stderr, "register_addin: %s failed: %s\n", what, connection.error().c_str());
    return 2;
}

int main(int argc, char **argv) {
    size_t calls = 0, warmup = 0;
    if (argc != 5 || !parse_count(argv[3], calls) || !parse_count(argv[4], warmup) || calls == 0) {
        std::fprintf(stderr, "usage: %s <library path> <database path> <calls >= 1> <warmup calls>\n", argv[0]);
        return 1;
    }
    void *library = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
    if (library == nullptr) {
        std::fprintf(stderr, "register_addin: dlopen: %s\n", dlerror());
        return 1;
    }
    auto get_class_names = reinterpret_cast<GetClassNamesPtr>(dlsym(library, "GetClassNames"));
    auto get_class_object = reinterpret_cast<GetClassObjectPtr>(dlsym(library, "GetClassObject"));
    auto destroy_object = reinterpret_cast<DestroyObjectPtr>(dlsym(library, "DestroyObject"));
    auto set_platform_capabilities = reinterpret_cast<SetPlatformCapabilitiesPtr>(dlsym(library, "SetPlatformCapabilities"));
    auto get_attach_type = reinterpret_cast<GetAttachTypePtr>(dlsym(library, "GetAttachType"));
    if (!get_class_names || !get_class_object || !destroy_object) {
        std::fprintf(stderr, "register_addin: %s lacks GetClassNames, GetClassObject or DestroyObject\n", argv[1]);
        return 1;
    }

    // The attach phase, once per library; both of these exports are optional.
    if (utf8(get_class_names()) != "Engine") {
        std::fprintf(stderr, "register_addin: GetClassNames: %s\n", utf8(get_class_names()).c_str());
        return 1;
    }
    if (set_platform_capabilities) set_platform_capabilities(eAppCapabilities3);
    if (get_attach_type) get_attach_type();

    // `Новый("AddIn.Integra.Engine")`.
    Connection connection;
    IComponentBase *component = nullptr;
    const std::u16string engine_name = utf16("Engine");
    if (get_class_object(wide(engine_name), &component) == 0 || component == nullptr) {
        std::fprintf(stderr, "register_addin: GetClassObject(Engine) made no object\n");
        return 1;
    }
    if (!component->setMemManager(&memory) || !component->Init(&connection)) return fail(connection, "setMemManager/Init");
    component->GetInfo();
    WCHAR_T *extension = nullptr;
    if (!component->RegisterExtensionAs(&extension)) return fail(connection, "RegisterExtensionAs");
    memory.FreeMemory(reinterpret_cast<void **>(&extension));
    const std::u16string locale = utf16("ru_RU"), language = utf16("ru");
    component->SetLocale(wide(locale));
    component->SetUserInterfaceLanguageCode(wide(language));

    // `Движок.Открыть(Настройки)`: a statement call of a method without a value.
    const std::u16string settings = utf16(
        "{\"database\": \"" + json_escaped(argv[2]) + "\", \"config\": {"
        "\"endpoints\": [{\"code\": \"shop\", \"base_url\": \"http://127.0.0.1:9\"}],"
        " \"subscribers\": [{\"code\": \"shop\", \"kind\": \"http\", \"endpoint\": \"shop\","
        " \"http\": {\"path\": \"/orders\"}}],"
        " \"flows\": [{\"code\": \"ORDERS\", \"direction\": \"outgoing\","
        " \"subscribers\": [\"shop\"]}]}}");
    const std::u16string open_name = utf16("Open");
    long open = component->FindMethod(wide(open_name));
    if (open < 0) return fail(connection, "FindMethod(Open)");
    {
        std::vector<tVariant> params(size_t(std::max(component->GetNParams(open), 0L)));
        bool ok = prepare(component, open, params, {&settings}) &&
                  component->CallAsProc(open, params.data(), long(params.size()));
        for (auto &p : params) release(p);
        if (!ok) return fail(connection, "Open");
    }

    // `Ид = Движок.RegisterMessage("ORDERS", Тело)`: found once, called many times.
    const std::u16string register_name = utf16("RegisterMessage"), flow = utf16("ORDERS"), body = utf16(ORDER);
    long m = component->FindMethod(wide(register_name));
    if (m < 0) return fail(connection, "FindMethod(RegisterMessage)");
    long n = component->GetNParams(m);
    if (n != 4 || !component->HasRetVal(m)) {
        std::fprintf(stderr, "register_addin: RegisterMessage has %ld parameters (expected 4) and %s value\n", n,
                     component->HasRetVal(m) ? "a" : "no");
        return 1;
    }
    std::vector<tVariant> params(static_cast<size_t>(n));
    std::vector<int64_t> samples;
    samples.reserve(calls);
    for (size_t i = 0; i < warmup + calls; i++) {
        if (!prepare(component, m, params, {&flow, &body})) return fail(connection, "preparing RegisterMessage's parameters");
        tVariant ret;
        std::memset(&ret, 0, sizeof ret);
        int64_t start = nanoseconds();
        bool ok = component->CallAsFunc(m, &ret, params.data(), n);
        int64_t end = nanoseconds();
        if (!ok) return fail(connection, "RegisterMessage");
        if (ret.vt != VTYPE_PWSTR || ret.pwstrVal == nullptr || ret.wstrLen != 36) {
            std::fprintf(stderr, "register_addin: call %zu returned type %u, %u units, not a 36-character id\n", i,
                         unsigned(ret.vt), ret.vt == VTYPE_PWSTR ? ret.wstrLen : 0u);
            return 2;
        }
        std::string id = utf8(reinterpret_cast<const char16_t *>(ret.pwstrVal), ret.wstrLen);
        release(ret);
        for (auto &p : params) release(p);
        if (id.size() != 36) {
            std::fprintf(stderr, "register_addin: call %zu returned the id \"%s\"\n", i, id.c_str());
            return 2;
        }
        if (i >= warmup) samples.push_back(end - start);
    }

    // `Движок = Неопределено`.
    component->Done();
    if (destroy_object(&component) != 0) {
        std::fprintf(stderr, "register_addin: DestroyObject failed\n");
        return 1;
    }
    if (memory.live != 0 || memory.bad_frees != 0) {
        std::fprintf(stderr, "register_addin: %ld platform allocations never freed, %ld frees too many\n",
                     memory.live.load(), memory.bad_frees.load());
        return 3;
    }

    int64_t total = 0;
    for (int64_t s : samples) total += s;
    std::sort(samples.begin(), samples.end());
    double seconds = double(total) / 1e9;
    std::printf("{\"calls\": %zu, \"p50_us\": %.3f, \"p99_us\": %.3f, \"max_us\": %.3f, \"per_second\": %.1f}\n",
                calls, percentile_us(samples, 50), percentile_us(samples, 99), double(samples.back()) / 1000.0,
                seconds > 0 ? double(calls) / seconds : 0.0);
    return 0;
}
