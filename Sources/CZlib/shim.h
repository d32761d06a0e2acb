#ifndef DISTILL_CZLIB_SHIM_H
#define DISTILL_CZLIB_SHIM_H

// ZLIB_CONST makes z_stream.next_in import as UnsafePointer, so input buffers need not be mutable.
#define ZLIB_CONST
#include <zlib.h>

#endif
