#ifndef DISTILL_COPENSSL_SHIM_H
#define DISTILL_COPENSSL_SHIM_H

// One umbrella header so Swift sees exactly the OpenSSL API DistillCrypto uses.
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/ecdsa.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#endif
