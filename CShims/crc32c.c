// CRC32C (Castagnoli, reflected polynomial 0x82F63B78) with a hardware path.
// The only C here with a loop in it: Swift has no portable access to the SSE4.2 CRC32 instruction.
#include "CShims.h"
#include <pthread.h>

#if defined(__x86_64__)
#include <cpuid.h>
#endif

static uint32_t crc32c_table[256];

static void crc32c_build_table(void) {
    for (uint32_t index = 0; index < 256; index++) {
        uint32_t crc = index;
        for (int bit = 0; bit < 8; bit++) crc = (crc >> 1) ^ (0x82F63B78u & (0u - (crc & 1u)));
        crc32c_table[index] = crc;
    }
}

uint32_t sc_crc32c_software(uint32_t crc, const void *data, size_t length) {
    // Built once: racing builders would write identical values, but a race is still undefined
    // behaviour (ThreadSanitizer flagged two tests building it at once).
    static pthread_once_t table_once = PTHREAD_ONCE_INIT;
    pthread_once(&table_once, crc32c_build_table);
    const uint8_t *bytes = data;
    crc = ~crc;
    for (size_t i = 0; i < length; i++) crc = crc32c_table[(crc ^ bytes[i]) & 0xFF] ^ (crc >> 8);
    return ~crc;
}

#if defined(__x86_64__)
__attribute__((target("sse4.2")))
static uint32_t crc32c_hardware(uint32_t crc, const void *data, size_t length) {
    const uint8_t *bytes = data;
    uint64_t state = ~crc;
    // Four words per iteration: the crc32 chain's latency is the same, but a record check
    // (136 bytes) runs about half the instructions, which leaves the CPU's out-of-order window
    // room for the next read's loads.
    while (length >= 32) {
        uint64_t words[4];
        __builtin_memcpy(words, bytes, 32);
        state = __builtin_ia32_crc32di(state, words[0]);
        state = __builtin_ia32_crc32di(state, words[1]);
        state = __builtin_ia32_crc32di(state, words[2]);
        state = __builtin_ia32_crc32di(state, words[3]);
        bytes += 32;
        length -= 32;
    }
    while (length >= 8) {
        uint64_t word;
        __builtin_memcpy(&word, bytes, 8);
        state = __builtin_ia32_crc32di(state, word);
        bytes += 8;
        length -= 8;
    }
    // Under 8 bytes left: one 4-byte step if there are 4, then single bytes.
    uint32_t state32 = (uint32_t)state, half;
    if (length & 4) { __builtin_memcpy(&half, bytes, 4); state32 = __builtin_ia32_crc32si(state32, half); bytes += 4; }
    for (size_t i = 0; i < (length & 3); i++) state32 = __builtin_ia32_crc32qi(state32, bytes[i]);
    return ~state32;
}

static int cpu_has_sse42(void) {
    unsigned eax, ebx, ecx, edx;
    if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx)) return 0;
    return (ecx & bit_SSE4_2) != 0;
}
#endif

#if defined(__x86_64__)
// -1 until the first call probes the CPU, then 0 or 1.
static int hardware_support = -1;
#endif

int sc_crc32c_is_hardware_accelerated(void) {
#if defined(__x86_64__)
    int value = __atomic_load_n(&hardware_support, __ATOMIC_RELAXED);
    if (value < 0) {
        value = cpu_has_sse42();
        __atomic_store_n(&hardware_support, value, __ATOMIC_RELAXED);
    }
    return value;
#else
    return 0;
#endif
}

// Everything but the common case, out of line, so sc_crc32c itself needs no stack frame.
__attribute__((noinline))
static uint32_t crc32c_probing_or_software(uint32_t crc, const void *data, size_t length) {
#if defined(__x86_64__)
    if (sc_crc32c_is_hardware_accelerated()) return crc32c_hardware(crc, data, length);
#endif
    return sc_crc32c_software(crc, data, length);
}

uint32_t sc_crc32c(uint32_t crc, const void *data, size_t length) {
#if defined(__x86_64__)
    if (__builtin_expect(__atomic_load_n(&hardware_support, __ATOMIC_RELAXED) > 0, 1)) {
        return crc32c_hardware(crc, data, length);
    }
#endif
    return crc32c_probing_or_software(crc, data, length);
}
