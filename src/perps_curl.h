/*-------------------------------------------------------------------------
 *
 * perps_curl.h
 *		The one wrapper around libcurl: its header, and the one place where
 *		libcurl's error codes become SQLSTATEs and readable words.
 *
 * Only src/http.c includes this.  Setting an option can only fail on a
 * programming error or when libcurl lacks a feature it was asked for, so
 * PERPS_CURL_SETOPT reports that as elog(ERROR) naming the option; a
 * transfer's failure is described by perps_curl_describe().
 *
 *-------------------------------------------------------------------------
 */
#ifndef PERPS_CURL_H
#define PERPS_CURL_H

#include "postgres.h"

#include <curl/curl.h>

#include "utils/elog.h"

#define PERPS_CURL_SETOPT(h, opt, val) \
	do { \
		CURLcode	perps_curl_rc_ = curl_easy_setopt((h), (opt), (val)); \
		if (perps_curl_rc_ != CURLE_OK) \
			elog(ERROR, "libcurl refused option %s: %s", #opt, \
				 curl_easy_strerror(perps_curl_rc_)); \
	} while (0)

#define PERPS_CURL_MULTI_CHECK(call) \
	do { \
		CURLMcode	perps_curlm_rc_ = (call); \
		if (perps_curlm_rc_ != CURLM_OK) \
			elog(ERROR, "libcurl multi interface failed in %s: %s", #call, \
				 curl_multi_strerror(perps_curlm_rc_)); \
	} while (0)

/*
 * What a failed transfer means to a SQL caller: the SQLSTATE, a short
 * lower-case phrase, and whether trying again may help.  errbuf is
 * CURLOPT_ERRORBUFFER's text (may be empty); the phrase prefers it.
 */
static inline const char *
perps_curl_describe(CURLcode rc, const char *errbuf, int *sqlstate, bool *transient)
{
	*transient = false;
	switch (rc)
	{
		case CURLE_COULDNT_RESOLVE_HOST:
		case CURLE_COULDNT_RESOLVE_PROXY:
			*sqlstate = ERRCODE_SQLCLIENT_UNABLE_TO_ESTABLISH_SQLCONNECTION;
			return "could not resolve the host name";
		case CURLE_COULDNT_CONNECT:
			*sqlstate = ERRCODE_SQLCLIENT_UNABLE_TO_ESTABLISH_SQLCONNECTION;
			*transient = true;
			return "could not connect";
		case CURLE_OPERATION_TIMEDOUT:
			*sqlstate = ERRCODE_CONNECTION_FAILURE;
			*transient = true;
			return "timed out";
		case CURLE_GOT_NOTHING:
			*sqlstate = ERRCODE_CONNECTION_FAILURE;
			*transient = true;
			return "the server closed the connection without answering";
		case CURLE_SEND_ERROR:
		case CURLE_RECV_ERROR:
		case CURLE_PARTIAL_FILE:
		case CURLE_HTTP2:
		case CURLE_HTTP2_STREAM:
			*sqlstate = ERRCODE_CONNECTION_FAILURE;
			*transient = true;
			return "the connection broke during the transfer";
		case CURLE_PEER_FAILED_VERIFICATION:
		case CURLE_SSL_CONNECT_ERROR:
		case CURLE_SSL_CERTPROBLEM:
		case CURLE_SSL_CIPHER:
		case CURLE_SSL_CACERT_BADFILE:
			*sqlstate = ERRCODE_SQLCLIENT_UNABLE_TO_ESTABLISH_SQLCONNECTION;
			return "TLS handshake or certificate verification failed";
		case CURLE_FILESIZE_EXCEEDED:
			*sqlstate = ERRCODE_PROGRAM_LIMIT_EXCEEDED;
			return "the response exceeds perps_stats.http_max_response_size";
		case CURLE_UNSUPPORTED_PROTOCOL:
		case CURLE_URL_MALFORMAT:
			*sqlstate = ERRCODE_INVALID_PARAMETER_VALUE;
			return "the URL is not a valid http or https URL";
		case CURLE_OUT_OF_MEMORY:
			*sqlstate = ERRCODE_OUT_OF_MEMORY;
			return "out of memory";
		case CURLE_BAD_CONTENT_ENCODING:
			*sqlstate = ERRCODE_CONNECTION_EXCEPTION;
			return "the response's content encoding could not be decoded";
		default:
			*sqlstate = ERRCODE_CONNECTION_EXCEPTION;
			return (errbuf && errbuf[0]) ? errbuf : curl_easy_strerror(rc);
	}
}

#endif							/* PERPS_CURL_H */
