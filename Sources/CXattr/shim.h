#ifndef DISTILL_CXATTR_SHIM_H
#define DISTILL_CXATTR_SHIM_H

// Extended attributes (llistxattr, lgetxattr): part of the C library, but not of Swift's Glibc
// module, so `distill pack` reaches them through this header.
#include <sys/xattr.h>

#endif
