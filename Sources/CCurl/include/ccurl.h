#pragma once
// Non-variadic wrappers for libcurl's variadic calls, which Swift cannot call directly.
// Every other libcurl function (curl_easy_init, curl_easy_perform, curl_slist_append, ...) is used as it is.
#include <curl/curl.h>

/// The shape of libcurl's write, read and header callbacks: `context` is the matching *DATA option's pointer.
typedef size_t (*ccurl_data_callback)(char *data, size_t size, size_t count, void *context);

CURLcode ccurl_setopt_long(CURL *handle, CURLoption option, long value);
CURLcode ccurl_setopt_str(CURL *handle, CURLoption option, const char *value);
CURLcode ccurl_setopt_ptr(CURL *handle, CURLoption option, void *value);
CURLcode ccurl_setopt_off(CURL *handle, CURLoption option, curl_off_t value);
/// For CURLOPT_WRITEFUNCTION, CURLOPT_READFUNCTION and CURLOPT_HEADERFUNCTION.
CURLcode ccurl_setopt_data_callback(CURL *handle, CURLoption option, ccurl_data_callback callback);
CURLcode ccurl_getinfo_long(CURL *handle, CURLINFO info, long *value);
/// For CURLINFO_ACTIVESOCKET (the socket of a CURLOPT_CONNECT_ONLY connection, for poll()).
CURLcode ccurl_getinfo_socket(CURL *handle, CURLINFO info, curl_socket_t *value);
