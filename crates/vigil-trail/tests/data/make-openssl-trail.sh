#!/bin/sh
# Builds tests/data/openssl-trail: one log file and the digest that lists it, signed with
# openssl (not with vigil's code), following the CloudTrail user guide's description of the
# signing string. The test `openssl_signed_trail_verifies` checks that vigil accepts it, so
# the crate's signing string, hashing and RSA verification are checked against an
# independent implementation. Run from this directory; needs openssl, gzip, sha256sum, od.
set -eu
out=openssl-trail
bucket=example-bucket
acct=111122223333
region=us-east-2
logkey="AWSLogs/$acct/CloudTrail/$region/2024/05/01/${acct}_CloudTrail_${region}_20240501T0030Z_OpenSSLfixture01.json.gz"
digkey="AWSLogs/$acct/CloudTrail-Digest/$region/2024/05/01/${acct}_CloudTrail-Digest_${region}_example-trail_${region}_20240501T010031Z.json.gz"
rm -rf "$out" && mkdir -p "$out/$(dirname "$logkey")" "$out/$(dirname "$digkey")"
printf '{"Records":[{"eventVersion":"1.08","eventTime":"2024-05-01T00:27:00Z","eventSource":"iam.amazonaws.com","eventName":"ListUsers","awsRegion":"%s","recipientAccountId":"%s"}]}' "$region" "$acct" > log.json
loghash=$(sha256sum log.json | cut -d' ' -f1)
gzip -n -c log.json > "$out/$logkey"
fp=$(openssl pkey -in test-signing-key.pem -pubout -outform DER | openssl rsa -pubin -inform DER -RSAPublicKey_out -outform DER 2>/dev/null | openssl md5 -r | cut -d' ' -f1)
printf '{"awsAccountId":"%s","digestStartTime":"2024-05-01T00:00:31Z","digestEndTime":"2024-05-01T01:00:31Z","digestS3Bucket":"%s","digestS3Object":"%s","digestPublicKeyFingerprint":"%s","digestSignatureAlgorithm":"SHA256withRSA","newestEventTime":"2024-05-01T00:27:00Z","oldestEventTime":"2024-05-01T00:27:00Z","previousDigestS3Bucket":null,"previousDigestS3Object":null,"previousDigestHashValue":null,"previousDigestHashAlgorithm":null,"previousDigestSignature":null,"logFiles":[{"s3Bucket":"%s","s3Object":"%s","hashValue":"%s","hashAlgorithm":"SHA-256","newestEventTime":"2024-05-01T00:27:00Z","oldestEventTime":"2024-05-01T00:27:00Z"}]}' \
  "$acct" "$bucket" "$digkey" "$fp" "$bucket" "$logkey" "$loghash" > digest.json
dighash=$(sha256sum digest.json | cut -d' ' -f1)
gzip -n -c digest.json > "$out/$digkey"
printf '2024-05-01T01:00:31Z\n%s/%s\n%s\nnull' "$bucket" "$digkey" "$dighash" > to-sign.txt
sig=$(openssl dgst -sha256 -sign test-signing-key.pem to-sign.txt | od -An -v -tx1 | tr -d ' \n')
printf '{"signature":"%s","signature-algorithm":"SHA256withRSA"}' "$sig" > "$out/$digkey.metadata.json"
printf '{"bucket":"%s"}' "$bucket" > "$out/vigil-trail-source.json"
rm -f log.json digest.json to-sign.txt
