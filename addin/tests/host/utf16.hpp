// UTF-8 <-> UTF-16 as the 1C platform's strings need, for the programs that play the
// platform: the test host (host.cpp) and the register benchmark (benches/native).
#ifndef INTEGRA_TEST_UTF16_HPP
#define INTEGRA_TEST_UTF16_HPP

#include <cstddef>
#include <cstdint>
#include <string>

#include "integra_native_api.h"

static inline std::u16string utf16(const std::string &s) {
    std::u16string out;
    for (size_t i = 0; i < s.size();) {
        unsigned char c = static_cast<unsigned char>(s[i]);
        uint32_t cp;
        size_t n;
        if (c < 0x80) { cp = c; n = 1; }
        else if ((c >> 5) == 6) { cp = c & 0x1f; n = 2; }
        else if ((c >> 4) == 14) { cp = c & 0x0f; n = 3; }
        else { cp = c & 0x07; n = 4; }
        for (size_t k = 1; k < n && i + k < s.size(); k++) cp = (cp << 6) | (s[i + k] & 0x3f);
        i += n;
        if (cp >= 0x10000) {
            cp -= 0x10000;
            out.push_back(char16_t(0xd800 + (cp >> 10)));
            out.push_back(char16_t(0xdc00 + (cp & 0x3ff)));
        } else {
            out.push_back(char16_t(cp));
        }
    }
    return out;
}

static inline std::string utf8(const char16_t *p, size_t n) {
    std::string out;
    for (size_t i = 0; i < n; i++) {
        uint32_t cp = p[i];
        if (cp >= 0xd800 && cp < 0xdc00 && i + 1 < n) {
            cp = 0x10000 + ((cp - 0xd800) << 10) + (uint32_t(p[i + 1]) - 0xdc00);
            i++;
        }
        if (cp < 0x80) out.push_back(char(cp));
        else if (cp < 0x800) { out.push_back(char(0xc0 | (cp >> 6))); out.push_back(char(0x80 | (cp & 0x3f))); }
        else if (cp < 0x10000) { out.push_back(char(0xe0 | (cp >> 12))); out.push_back(char(0x80 | ((cp >> 6) & 0x3f))); out.push_back(char(0x80 | (cp & 0x3f))); }
        else { out.push_back(char(0xf0 | (cp >> 18))); out.push_back(char(0x80 | ((cp >> 12) & 0x3f))); out.push_back(char(0x80 | ((cp >> 6) & 0x3f))); out.push_back(char(0x80 | (cp & 0x3f))); }
    }
    return out;
}

static inline size_t length(const WCHAR_T *p) {
    size_t n = 0;
    while (p[n] != 0) n++;
    return n;
}

static inline std::string utf8(const WCHAR_T *p) {
    return p == nullptr ? std::string() : utf8(reinterpret_cast<const char16_t *>(p), length(p));
}

#endif  // INTEGRA_TEST_UTF16_HPP
