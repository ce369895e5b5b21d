/* CRC32C (Castagnoli), as iSCSI and ext4 use it. */
#ifndef TERN_CRC32C_H
#define TERN_CRC32C_H

#include <stddef.h>
#include <stdint.h>

/* Continue a CRC: start with crc = 0; feed pieces in order. */
uint32_t tni_crc32c(uint32_t crc, const void *data, size_t len);
/* The two implementations, exposed so tests can check one against the other. */
uint32_t tni_crc32c_sw(uint32_t crc, const void *data, size_t len);
uint32_t tni_crc32c_hw(uint32_t crc, const void *data, size_t len);
int tni_crc32c_hw_available(void);
/* The CRC of len bytes with the 4 at hole read as zeros (a packet whose
 * CRC field sits at hole), in one pass. */
uint32_t tni_crc32c_hole(const void *data, size_t len, size_t hole);

#endif
