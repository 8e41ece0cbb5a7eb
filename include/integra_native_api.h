/*
 * The 1C:Enterprise Native API add-in ABI, as Integra's add-in implements it and as a C++
 * program must call it to drive the add-in exactly the way the 1C platform does.
 *
 * Written for Integra from the documented facts of the ABI (slot order, tVariant layout,
 * string and memory rules); it is not the 1C SDK's header. The layout is checked with
 * static_assert on Linux x86_64.
 *
 * The rules a caller must keep:
 *  - Strings are UTF-16 (2-byte units, WCHAR_T) on every OS. Names are NUL-terminated;
 *    string values carry their length in units (wstrLen, no NUL counted).
 *  - Everything the add-in returns (names, the extension name, string and binary values)
 *    is allocated with the caller's IMemoryManager::AllocMemory; the caller frees it with
 *    FreeMemory. Strings the caller passes in remain the caller's.
 *  - Objects are made by GetClassObject and destroyed by DestroyObject, never deleted.
 *  - A method that fails returns false after IAddInDefBase::AddError with its text.
 */
#ifndef INTEGRA_NATIVE_API_H
#define INTEGRA_NATIVE_API_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#if defined(_WIN32)
#define INTEGRA_ADDIN_CALL __stdcall
typedef wchar_t WCHAR_T;
#else
#define INTEGRA_ADDIN_CALL
typedef uint16_t WCHAR_T;
#endif

/* Type codes of a tVariant (the `vt` field). */
enum ENUMVAR {
    VTYPE_EMPTY = 0,
    VTYPE_NULL = 1,
    VTYPE_I2 = 2,
    VTYPE_I4 = 3,
    VTYPE_R4 = 4,
    VTYPE_R8 = 5,
    VTYPE_DATE = 6,
    VTYPE_TM = 7,
    VTYPE_PSTR = 8,
    VTYPE_INTERFACE = 9,
    VTYPE_ERROR = 10,
    VTYPE_BOOL = 11,
    VTYPE_VARIANT = 12,
    VTYPE_I1 = 13,
    VTYPE_UI1 = 14,
    VTYPE_UI2 = 15,
    VTYPE_UI4 = 16,
    VTYPE_I8 = 17,
    VTYPE_UI8 = 18,
    VTYPE_INT = 19,
    VTYPE_UINT = 20,
    VTYPE_HRESULT = 21,
    VTYPE_PWSTR = 22,
    VTYPE_BLOB = 23,
    VTYPE_CLSID = 24,
    VTYPE_STR_BLOB = 0x0fff,
    VTYPE_VECTOR = 0x1000,
    VTYPE_ARRAY = 0x2000,
    VTYPE_BYREF = 0x4000,
    VTYPE_RESERVED = 0x8000,
    VTYPE_ILLEGAL = 0xffff,
    VTYPE_ILLEGALMASKED = 0x0fff,
    VTYPE_TYPEMASK = 0x0fff
};

/* A value passed to and from the add-in. */
typedef struct tVariant {
    union {
        int8_t i8Val;
        int16_t shortVal;
        int32_t lVal;
        int intVal;
        unsigned int uintVal;
        int64_t llVal;
        uint8_t ui8Val;
        uint16_t ushortVal;
        uint32_t ulVal;
        uint64_t ullVal;
        int32_t errCode;
        long hRes;
        float fltVal;
        double dblVal;
        bool bVal;
        char chVal;
        wchar_t wchVal;
        double date;
        uint8_t IDVal[16];
        struct tVariant *pvarVal;
        struct tm tmVal;
        struct {
            void *pInterfaceVal;
            uint8_t InterfaceID[16];
        };
        struct {
            char *pstrVal;
            uint32_t strLen; /* bytes */
        };
        struct {
            WCHAR_T *pwstrVal;
            uint32_t wstrLen; /* UTF-16 units, the NUL not counted */
        };
    };
    uint32_t cbElements;
    uint16_t vt;
} tVariant;

#if defined(__linux__) && defined(__x86_64__)
#ifdef __cplusplus
static_assert(sizeof(tVariant) == 64, "tVariant is 64 bytes on Linux x86_64");
static_assert(offsetof(tVariant, cbElements) == 56, "cbElements at 56");
static_assert(offsetof(tVariant, vt) == 60, "vt at 60");
#else
_Static_assert(sizeof(tVariant) == 64, "tVariant is 64 bytes on Linux x86_64");
_Static_assert(offsetof(tVariant, vt) == 60, "vt at 60");
#endif
#endif

/* Platform capability levels (SetPlatformCapabilities). */
typedef enum AppCapabilities {
    eAppCapabilitiesInvalid = -1,
    eAppCapabilities1 = 1,
    eAppCapabilities2 = 2,
    eAppCapabilities3 = 3,
    eAppCapabilitiesLast = eAppCapabilities3
} AppCapabilities;

/* Where an add-in may be attached (GetAttachType). */
typedef enum AttachType {
    eCanAttachNotIsolated = 1,
    eCanAttachIsolated = 2,
    eCanAttachAny = 3
} AttachType;

/* Message codes for AddError (wcode). */
enum {
    ADDIN_E_NONE = 1000,
    ADDIN_E_ORDINARY = 1001,
    ADDIN_E_ATTENTION = 1002,
    ADDIN_E_IMPORTANT = 1003,
    ADDIN_E_VERY_IMPORTANT = 1004,
    ADDIN_E_INFO = 1005,
    ADDIN_E_FAIL = 1006,
    ADDIN_E_MSGBOX_ATTENTION = 1007,
    ADDIN_E_MSGBOX_INFO = 1008,
    ADDIN_E_MSGBOX_FAIL = 1009
};

#ifdef __cplusplus

/* The platform's allocator, handed to the add-in by setMemManager. */
class IMemoryManager {
public:
    virtual ~IMemoryManager() {}
    virtual bool INTEGRA_ADDIN_CALL AllocMemory(void **pMemory, unsigned long ulCountByte) = 0;
    virtual void INTEGRA_ADDIN_CALL FreeMemory(void **pMemory) = 0;
};

/* The platform's side of an object, handed to it by Init. */
class IAddInDefBase {
public:
    virtual ~IAddInDefBase() {}
    virtual bool INTEGRA_ADDIN_CALL AddError(unsigned short wcode, const WCHAR_T *source,
                                            const WCHAR_T *descr, long scode) = 0;
    virtual bool INTEGRA_ADDIN_CALL Read(WCHAR_T *wszPropName, tVariant *pVal, long *pErrCode,
                                        WCHAR_T **errDescriptor) = 0;
    virtual bool INTEGRA_ADDIN_CALL Write(WCHAR_T *wszPropName, tVariant *pVar) = 0;
    virtual bool INTEGRA_ADDIN_CALL RegisterProfileAs(WCHAR_T *wszProfileName) = 0;
    virtual bool INTEGRA_ADDIN_CALL SetEventBufferDepth(long lDepth) = 0;
    virtual long INTEGRA_ADDIN_CALL GetEventBufferDepth() = 0;
    virtual bool INTEGRA_ADDIN_CALL ExternalEvent(WCHAR_T *wszSource, WCHAR_T *wszMessage,
                                                 WCHAR_T *wszData) = 0;
    virtual void INTEGRA_ADDIN_CALL CleanEventBuffer() = 0;
    virtual bool INTEGRA_ADDIN_CALL SetStatusLine(WCHAR_T *wszStatusLine) = 0;
    virtual void INTEGRA_ADDIN_CALL ResetStatusLine() = 0;
};

/* Optional platform interfaces reached through IAddInDefBaseEx::GetInterface. */
struct IInterface {};

enum Interfaces { eIMsgBox = 0, eIPlatformInfo = 1, eIAttachedInfo = 2 };

class IAddInDefBaseEx : public IAddInDefBase {
public:
    virtual ~IAddInDefBaseEx() {}
    virtual IInterface *INTEGRA_ADDIN_CALL GetInterface(Interfaces iface) = 0;
};

/* The add-in object's four bases, in this order: their vptrs sit at offsets 0, 1, 2 and 3
 * pointers into the object. */
class IInitDoneBase {
public:
    virtual ~IInitDoneBase() {}
    virtual bool INTEGRA_ADDIN_CALL Init(void *disp) = 0;
    virtual bool INTEGRA_ADDIN_CALL setMemManager(void *mem) = 0;
    virtual long INTEGRA_ADDIN_CALL GetInfo() = 0;
    virtual void INTEGRA_ADDIN_CALL Done() = 0;
};

class ILanguageExtenderBase {
public:
    virtual ~ILanguageExtenderBase() {}
    virtual bool INTEGRA_ADDIN_CALL RegisterExtensionAs(WCHAR_T **wsExtensionName) = 0;
    virtual long INTEGRA_ADDIN_CALL GetNProps() = 0;
    virtual long INTEGRA_ADDIN_CALL FindProp(const WCHAR_T *wsPropName) = 0;
    virtual const WCHAR_T *INTEGRA_ADDIN_CALL GetPropName(long lPropNum, long lPropAlias) = 0;
    virtual bool INTEGRA_ADDIN_CALL GetPropVal(const long lPropNum, tVariant *pvarPropVal) = 0;
    virtual bool INTEGRA_ADDIN_CALL SetPropVal(const long lPropNum, tVariant *varPropVal) = 0;
    virtual bool INTEGRA_ADDIN_CALL IsPropReadable(const long lPropNum) = 0;
    virtual bool INTEGRA_ADDIN_CALL IsPropWritable(const long lPropNum) = 0;
    virtual long INTEGRA_ADDIN_CALL GetNMethods() = 0;
    virtual long INTEGRA_ADDIN_CALL FindMethod(const WCHAR_T *wsMethodName) = 0;
    virtual const WCHAR_T *INTEGRA_ADDIN_CALL GetMethodName(const long lMethodNum,
                                                            const long lMethodAlias) = 0;
    virtual long INTEGRA_ADDIN_CALL GetNParams(const long lMethodNum) = 0;
    virtual bool INTEGRA_ADDIN_CALL GetParamDefValue(const long lMethodNum, const long lParamNum,
                                                    tVariant *pvarParamDefValue) = 0;
    virtual bool INTEGRA_ADDIN_CALL HasRetVal(const long lMethodNum) = 0;
    virtual bool INTEGRA_ADDIN_CALL CallAsProc(const long lMethodNum, tVariant *paParams,
                                              const long lSizeArray) = 0;
    virtual bool INTEGRA_ADDIN_CALL CallAsFunc(const long lMethodNum, tVariant *pvarRetValue,
                                              tVariant *paParams, const long lSizeArray) = 0;
};

class LocaleBase {
public:
    virtual ~LocaleBase() {}
    virtual void INTEGRA_ADDIN_CALL SetLocale(const WCHAR_T *loc) = 0;
};

class UserLanguageBase {
public:
    virtual ~UserLanguageBase() {}
    virtual void INTEGRA_ADDIN_CALL SetUserInterfaceLanguageCode(const WCHAR_T *lang) = 0;
};

class IComponentBase : public IInitDoneBase,
                       public ILanguageExtenderBase,
                       public LocaleBase,
                       public UserLanguageBase {
public:
    virtual ~IComponentBase() {}
};

#if defined(__linux__) && defined(__x86_64__)
static_assert(sizeof(IComponentBase) == 32, "four vptrs");
#endif

/* The add-in library's exports. */
extern "C" {
typedef const WCHAR_T *(*GetClassNamesPtr)();
typedef long (*GetClassObjectPtr)(const WCHAR_T *wsName, IComponentBase **pIntf);
typedef long (*DestroyObjectPtr)(IComponentBase **pIntf);
typedef AppCapabilities (*SetPlatformCapabilitiesPtr)(const AppCapabilities capabilities);
typedef AttachType (*GetAttachTypePtr)();
}

#endif /* __cplusplus */

#endif /* INTEGRA_NATIVE_API_H */
