// OpenSSL's libcrypto: SHA-256 for stored API-token hashes, HMAC-SHA256 for signed webhooks.
#include <openssl/sha.h>
#include <openssl/hmac.h>
#include <openssl/evp.h>
#include <openssl/crypto.h>
