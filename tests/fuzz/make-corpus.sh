#!/bin/bash
# Writes the seed corpus of every ptapi_fuzz target into DIR/<target>/ (created if missing): a handful of
# small valid inputs each, made here with printf (so no binary or CRLF files live in the repository) and,
# for `wav`, with sox (and a cut of /usr/share/sounds/alsa when present): no audio is committed.
# Idempotent. Usage: tests/fuzz/make-corpus.sh DIR
set -eu
root=${1:?usage: make-corpus.sh DIR}
target() { dir=$root/$1; mkdir -p "$dir"; }   # the seeds that follow are target $1's
seed() { printf "$2" > "$dir/$1"; }
target sip

sdp='v=0\r\no=- 42 7 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\nm=audio 40000 RTP/AVP 111 0\r\na=rtpmap:111 opus/48000/2\r\na=fmtp:111 useinbandfec=1\r\na=rtpmap:0 PCMU/8000\r\na=ptime:20\r\na=rtcp:40001\r\na=sendrecv\r\n'
seed invite "INVITE sip:bob@biloxi.example.com SIP/2.0\r\nVia: SIP/2.0/UDP pc33.atlanta.example.com:5060;branch=z9hG4bK776asdhds;rport\r\nMax-Forwards: 70\r\nTo: Bob <sip:bob@biloxi.example.com>\r\nFrom: \"Alice \\\\\"A\\\\\"\" <sip:alice@atlanta.example.com>;tag=1928301774\r\nCall-ID: a84b4c76e66710@pc33.atlanta.example.com\r\nCSeq: 314159 INVITE\r\nContact: <sip:alice@pc33.atlanta.example.com;transport=udp>;+sip.instance=\"<urn:uuid:00000000-0000-1000-8000-000A95A0E128>\"\r\nProxy-Authorization: Digest username=\"alice\", realm=\"atlanta.example.com\", nonce=\"wf84f1ceczx41ae6cbe5aea9c8e88d359\", uri=\"sip:bob@biloxi.example.com\", response=\"42ce3cef44b22f50c6a6071bc8\", algorithm=SHA-256, cnonce=\"0a4f113b\", qop=auth, nc=00000001\r\nContent-Type: application/sdp\r\nContent-Length: 207\r\n\r\n$sdp"
seed challenge401 "SIP/2.0 401 Unauthorized\r\nVia: SIP/2.0/UDP [2001:db8::9:1]:5060;branch=z9hG4bKnashds7;received=[2001:db8::9:255]\r\nFrom: <sip:bob@biloxi.example.com>;tag=a73kszlfl\r\nTo: <sip:bob@biloxi.example.com>;tag=1410948204\r\nCall-ID: 1j9FpLxk3uxtm8tn@biloxi.example.com\r\nCSeq: 1 REGISTER\r\nWWW-Authenticate: Digest realm=\"biloxi.example.com\", qop=\"auth,auth-int\", algorithm=SHA-256, nonce=\"ea9c8e88df84f1cec4341ae6cbe5a359\", opaque=\"\", stale=FALSE\r\nWWW-Authenticate: Digest realm=\"biloxi.example.com\", qop=\"auth\", algorithm=MD5, nonce=\"ea9c8e88df84f1cec4341ae6cbe5a359\", opaque=\"a, \\\\\"b\\\\\"\"\r\nWWW-Authenticate: Basic realm=\"x\", Digest realm=\"r\", nonce=\"n\", algorithm=MD5-sess, qop=auth\r\nContent-Length: 0\r\n\r\n"
seed challenge407 "SIP/2.0 407 Proxy Authentication Required\r\nv: SIP/2.0/TCP client.atlanta.example.com:5060;branch=z9hG4bK74bf9 , SIP/2.0/UDP 192.0.2.4\r\nf: Alice <sip:alice@atlanta.example.com>;tag=9fxced76sl\r\nt: Bob <sip:bob@biloxi.example.com>;tag=3flal12sf\r\ni: 3848276298220188511@atlanta.example.com\r\nCSeq: 1 INVITE\r\nProxy-Authenticate: Digest realm=\"atlanta.example.com\", domain=\"sip:ss1.carrier.com\", qop=\"auth\", nonce=\"f84f1cec41e6cbe5aea9c8e88d359\", opaque=\"\", stale=FALSE, algorithm=MD5\r\nl: 0\r\n\r\n"
seed register_lf "REGISTER sip:registrar.biloxi.example.com SIP/2.0\nVia: SIP/2.0/UDP bobspc.biloxi.example.com:5060;branch=z9hG4bKnashds7\nMax-Forwards: 70\nTo: Bob <sip:bob@biloxi.example.com>\nFrom: Bob <sip:bob@biloxi.example.com>;tag=456248\nCall-ID: 843817637684230@998sdasdh09\nCSeq: 1826 REGISTER\nContact: <sip:bob@192.0.2.4>;expires=7200, \"Bob, mobile\" <sips:bob@[2001:db8::10]:5061>;q=0.5\nAuthorization: Digest username=\"bob\", realm=\"biloxi.example.com\", nonce=\"dcd98b7102dd2f0e8b11d0f600bfb0c093\", uri=\"sip:registrar.biloxi.example.com\", response=\"245f23415f11432b3434341c022\"\nExpires: 7200\nl: 0\n\n"
seed wsinv "INVITE sip:vivekg@chair-dnrc.example.com;unknownparam SIP/2.0\r\nTO :\r\n sip:vivekg@chair-dnrc.example.com ;   tag    = 1918181833n\r\nfrom   : \"J Rosenberg \\\\\\\\\\\\\"\"       <sip:jdrosen@example.com>\r\n  ;\r\n  tag = 98asjd8\r\nMaX-fOrWaRdS: 0068\r\nCall-ID: wsinv.ndaksdj@192.0.2.1\r\nContent-Length   : 3\r\ncseq: 0009\r\n  INVITE\r\nVia  : SIP  /   2.0\r\n /UDP\r\n    192.0.2.2;branch=390skdjuw\r\ns :\r\nRoute:\r\n <sip:services.example.com;lr;unknownwith=value;unknown-no-value>\r\nv:  SIP  / 2.0  / TCP     spindle.example.com   ;\r\n  branch  =   z9hG4bK9ikj8  ,\r\n SIP  /    2.0   / UDP  192.168.255.111   ; branch=\r\n z9hG4bK30239\r\nm:\"Quoted string \\\\\"\\\\\"\" <sip:jdrosen@example.com> ; newparam =\r\n      newvalue ;\r\n  secondparam ; q = 0.33\r\n\r\nv=0"
seed replaces_invite "INVITE sip:bob@192.0.2.2 SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.3:5060;branch=z9hG4bKrep1\r\nTo: <sip:bob@192.0.2.2>\r\nFrom: <sip:carol@192.0.2.3>;tag=c1\r\nCall-ID: rep1@192.0.2.3\r\nCSeq: 1 INVITE\r\nReplaces: 425928@bobster.example.org;to-tag=7743;from-tag=6472;early-only\r\nReferred-By: <sip:alice@192.0.2.1>\r\nDiversion: <sip:dave@192.0.2.4>;reason=user-busy;counter=1\r\nP-Asserted-Identity: \"Carol\" <sip:carol@192.0.2.3>\r\nContent-Length: 0\r\n\r\n"
seed uui_invite "INVITE sip:bob@192.0.2.2 SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.3:5060;branch=z9hG4bKuui1\r\nTo: <sip:bob@192.0.2.2>\r\nFrom: <sip:carol@192.0.2.3>;tag=c1\r\nCall-ID: uui1@192.0.2.3\r\nCSeq: 1 INVITE\r\nUser-to-User: 56a390f3d2b7310023a2;encoding=hex;purpose=isdn-uui, \"0A1B\";encoding=HEX\r\nUser-to-User: zz;encoding=base64\r\nContent-Length: 0\r\n\r\n"
seed history_info "INVITE sip:vm@192.0.2.9 SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.3:5060;branch=z9hG4bKhi1\r\nTo: <sip:bob@example.com>\r\nFrom: <sip:alice@192.0.2.3>;tag=a1\r\nCall-ID: hi1@192.0.2.3\r\nCSeq: 1 INVITE\r\nHistory-Info: <sip:bob@example.com>;index=1, <sip:bob@192.0.2.4>;index=1.1;rc=1\r\nHistory-Info: <sip:vm@example.com;cause=486?Reason=SIP%%3Bcause%%3D486>;index=1.2;mp=1\r\nContent-Length: 0\r\n\r\n"
seed tcp_pipelined "\r\n\r\nOPTIONS sip:carol@chicago.example.com SIP/2.0\r\nVia: SIP/2.0/TCP pc33.atlanta.example.com;branch=z9hG4bKhjhs8ass877\r\nCSeq: 63104 OPTIONS\r\nContent-Length: 5\r\n\r\nhelloSIP/2.0 200 OK\r\nCSeq: 63104 OPTIONS\r\nl: 0\r\n\r\n"
seed intmeth "!interesting-Method0123456789_*+\`.%%indeed'~ sip:1_unusual.URI~(to-be!sure)&isn't+it\$/crazy?,/;;*:&it+has=1,weird!*pas\$wo~d_too.(doesn't-it)@example.com SIP/2.0\r\nVia: SIP/2.0/TCP host1.example.com;branch=z9hG4bK-.!%%66*_+\`'~\r\nTo: \"BEL:\\\\\007 NUL:\\\\\000 DEL:\\\\\177\" <sip:1_unusual.URI~(to-be!sure)&isn't+it\$/crazy?,/;;*@example.com>\r\nFrom: token1~\` token2'+_ token3*%%!.- <sip:mundane@example.com>;fromParam''~+*_!.-%%=\"x\";tag=_token~1'+\`*%%!-.\r\nCall-ID: intmeth.word%%ZK-!.*_+'@word\`~)(><:\\\\/\"][?}{\r\nCSeq: 139122385 !interesting-Method0123456789_*+\`.%%indeed'~\r\nMax-Forwards: 255\r\nContent-Length: 0\r\n\r\n"
# Near the limits: LF-only, a 4090-byte compact header (it grows past max_line_bytes when expanded),
# many short compact headers, a body without Content-Length.
{
  printf 'MESSAGE sip:bob@biloxi.example.com SIP/2.0\nx:'
  head -c 4088 /dev/zero | tr '\0' 'a'
  printf '\n'
  i=0
  while [ $i -lt 90 ]; do printf 'k: t%d\n' $i; i=$((i + 1)); done
  printf '\n'
  head -c 16000 /dev/zero | tr '\0' 'b'
} > "$dir/limits"

# RTP (RFC 3550 §5.1): Opus, PCMU with the marker bit, CSRC + header extension + padding, an RFC 4733 event.
target rtp
seed opus '\x80\x6f\x12\x34\x00\x00\x03\xc0\xde\xad\xbe\xef\x78\x01\x02\x03\x04\x05\x06\x07'
seed pcmu_marker '\x80\x80\x00\x01\x00\x00\x00\xa0\x01\x02\x03\x04\xff\xfe\x7f\x7e\x00\x80\xff\xff'
seed csrc_ext_pad '\xb1\x60\xff\xff\xff\xff\xff\x00\x00\x00\x00\x01\x00\x00\x00\x02\xbe\xde\x00\x01\x10\xaa\x00\x00\x01\x02\x03\x00\x02'
seed dtmf '\x80\xe5\x00\x10\x00\x01\x00\x00\x00\x00\x00\x07\x01\x8a\x03\x20'
# RTCP (RFC 3550 §6): SR with a report block + SDES CNAME; RR without blocks + BYE with padding; an RR
# block with negative cumulative lost; receiver-statistics records (11 bytes: seq, timestamp, arrival, flags).
target rtcp
sdes='\x81\xca\x00\x04\x11\x22\x33\x44\x01\x09ptapi@x.y\x00'
seed sr_block "\x81\xc8\x00\x0c\x11\x22\x33\x44\xe9\x12\x34\x56\x80\x00\x00\x00\x00\x01\x00\x00\x00\x00\x00\x32\x00\x00\x1f\x40\x55\x66\x77\x88\x40\x00\x00\x05\x00\x00\x12\x34\x00\x00\x00\x20\x12\x34\x56\x78\x00\x01\x00\x00$sdes"
seed rr_bye_pad '\x80\xc9\x00\x01\x11\x22\x33\x44\xa1\xcb\x00\x02\x11\x22\x33\x44\x00\x00\x00\x04'
seed rr_negative '\x81\xc9\x00\x07\x01\x02\x03\x04\x05\x06\x07\x08\xff\xff\xff\xfe\x00\x01\x00\x10\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00'
seed stats '\x00\x01\x00\x00\x00\x00\x00\x00\x00\x00\x01\x00\x02\x00\x00\x03\xc0\x00\x00\x03\xc0\x01\x00\x05\x00\x00\x0f\x00\x00\x00\x0f\x00\x03\x7f\xff\x00\x00\x12\xc0\x00\x00\x12\xc0\x03\x00\x06\x00\x00\x16\x80\x00\x00\x16\x80\x03'
# RFC 4733 §2.3 events: digit 1 with E bit, volume 10, duration 800; '#' start; flash (16).
target telephone_event
seed digit_end '\x01\x8a\x03\x20'
seed hash_start '\x0b\x0a\x00\xa0'
seed flash_two '\x10\x00\x00\x00\x10\x80\x01\x40'
# SDP (RFC 4566): the offer of the SIP seeds, an IPv6 answer with telephone-event, LF-only with two m-lines.
target sdp
seed offer "$sdp"
seed ice_offer 'v=0\r\no=- 42 7 IN IP4 192.0.2.1\r\ns=-\r\na=ice-ufrag:F7gI\r\nc=IN IP4 198.51.100.7\r\nt=0 0\r\nm=audio 40002 RTP/AVP 111\r\na=rtpmap:111 opus/48000/2\r\na=ice-pwd:x9cml/YzichV2+XlhiMu8g\r\na=candidate:1 1 UDP 2130706431 192.0.2.1 40000 typ host\r\na=candidate:2 1 udp 1694498815 198.51.100.7 40002 typ srflx raddr 192.0.2.1 rport 40000\r\na=candidate:3 1 UDP 16777215 203.0.113.9 50000 typ relay raddr 198.51.100.7 rport 40002 generation 0\r\na=rtcp-mux\r\n'
seed offer-srtp "v=0\r\no=- 42 7 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\nm=audio 40000 RTP/SAVP 111\r\na=rtpmap:111 opus/48000/2\r\na=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR|2^31\r\na=crypto:2 AEAD_AES_128_GCM inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaQ==\r\na=crypto:3 AES_256_CM_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR|2^20|1:4\r\n"
seed offer-dtls 'v=0\r\no=- 42 7 IN IP4 192.0.2.1\r\ns=-\r\na=fingerprint:sha-1 4A:AD:B9:B1:3F:82:18:3B:54:02:12:DF:3E:5D:49:6B:19:E5:7C:AB\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\nm=audio 40000 UDP/TLS/RTP/SAVP 111\r\na=rtpmap:111 opus/48000/2\r\na=fingerprint:sha-256 e7:9c:2f:7f:73:30:18:d5:1d:20:b8:2c:5d:a3:8f:39:2a:d5:c4:4b:3e:bf:2b:31:66:c9:2c:6e:06:97:c0:a1\r\na=setup:actpass\r\n'
seed answer_ip6 'v=0\r\no=ptapi 3 4 IN IP6 2001:db8::1\r\ns=-\r\nc=IN IP6 2001:db8::1\r\nt=0 0\r\nm=audio 5004 RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-16\r\na=ptime:20\r\na=recvonly\r\n'
seed two_media_lf 'v=0\no=- 1 1 IN IP4 10.0.0.1\ns=call\nt=0 0\nm=audio 0 RTP/AVP 8\nc=IN IP4 10.0.0.2/127\nm=audio 7078 RTP/SAVP 111\nc=IN IP4 10.0.0.3\na=rtpmap:111 opus/48000/2\na=rtcp:7080 IN IP4 10.0.0.3\na=inactive\n'
# TSP <-> MSP channel frames: [version 1][type][length:4][body].
target channel
seed request_offer '\x01\x01\x00\x00\x00\x08sendrecv'
seed start_media '\x01\x04\x00\x00\x00\x00'
seed digits '\x01\x06\x00\x00\x00\x04123#'
seed remote_offer "\x01\x02\x00\x00\x00\x54v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 1 RTP/AVP 0\r\n"
# Digest challenges (RFC 3261 §22, RFC 7616, RFC 8760): header blocks of a 401/407.
target digest
seed sha256_md5 'WWW-Authenticate: Digest realm="biloxi.example.com", qop="auth,auth-int", algorithm=SHA-256, nonce="ea9c8e88df84f1cec4341ae6cbe5a359", opaque="", stale=FALSE\r\nWWW-Authenticate: Digest realm="biloxi.example.com", qop="auth", algorithm=MD5, nonce="ea9c8e88df84f1cec4341ae6cbe5a359", opaque="a, \\"b\\""\r\n'
seed proxy_sess 'Proxy-Authenticate: Digest realm="atlanta.example.com", domain="sip:ss1.carrier.com", qop="auth", nonce="f84f1cec41e6cbe5aea9c8e88d359", algorithm=MD5-sess\nProxy-Authenticate: Digest realm="other", nonce="x", algorithm=SHA-256-sess, qop=auth-int\nWWW-Authenticate: Basic realm="x", Digest realm="r", nonce="n", qop=auth\n'
seed rfc2069 'WWW-Authenticate: Digest realm="asterisk",nonce="1cb7bd3e"\r\n'
# WAV and other files libsndfile reads: 20 ms of tone in several encodings, rates and channel counts.
target wav
if command -v sox >/dev/null; then
  tone() { out=$1; shift; sox -q -n "$@" "$dir/$out" synth 0.02 sine 440 vol 0.5 2>/dev/null || rm -f "$dir/$out"; }
  tone s16_48k.wav -r 48000 -c 1 -b 16 -e signed-integer
  tone s24_16k_stereo.wav -r 16000 -c 2 -b 24 -e signed-integer
  tone f32_44k.wav -r 44100 -c 1 -b 32 -e floating-point
  tone u8_22k.wav -r 22050 -c 1 -b 8 -e unsigned-integer
  tone alaw_8k.wav -r 8000 -c 1 -e a-law
  tone ima_8k.wav -r 8000 -c 1 -e ima-adpcm
  tone s16_8k.aiff -r 8000 -c 1 -b 16
  tone s16_48k.flac -r 48000 -c 2 -b 16
fi
for f in /usr/share/sounds/alsa/Front_Center.wav; do
  [ -r "$f" ] && head -c 3000 "$f" > "$dir/alsa_cut.wav"   # a truncated file: fewer frames than its header says
done
[ -n "$(ls -A "$dir")" ] || seed minimal 'RIFF\x28\x00\x00\x00WAVEfmt \x10\x00\x00\x00\x01\x00\x01\x00\x80\xbb\x00\x00\x00\x77\x01\x00\x02\x00\x10\x00data\x04\x00\x00\x00\x00\x00\x01\x00'

# STUN (RFC 8489): RFC 5769's sample request, IPv4/IPv6 responses and long-term request; a 401 error
# response with ERROR-CODE and a plain MAPPED-ADDRESS. TURN (RFC 8656): a Data indication, an Allocate
# success response (XOR-RELAYED-ADDRESS, XOR-MAPPED-ADDRESS, LIFETIME), ChannelData with UDP padding.
target stun
seed rfc5769_request '\x00\x01\x00\x58\x21\x12\xa4\x42\xb7\xe7\xa7\x01\xbc\x34\xd6\x86\xfa\x87\xdf\xae\x80\x22\x00\x10\x53\x54\x55\x4e\x20\x74\x65\x73\x74\x20\x63\x6c\x69\x65\x6e\x74\x00\x24\x00\x04\x6e\x00\x01\xff\x80\x29\x00\x08\x93\x2f\xf9\xb1\x51\x26\x3b\x36\x00\x06\x00\x09\x65\x76\x74\x6a\x3a\x68\x36\x76\x59\x20\x20\x20\x00\x08\x00\x14\x9a\xea\xa7\x0c\xbf\xd8\xcb\x56\x78\x1e\xf2\xb5\xb2\xd3\xf2\x49\xc1\xb5\x71\xa2\x80\x28\x00\x04\xe5\x7a\x3b\xcf'
seed rfc5769_ipv4 '\x01\x01\x00\x3c\x21\x12\xa4\x42\xb7\xe7\xa7\x01\xbc\x34\xd6\x86\xfa\x87\xdf\xae\x80\x22\x00\x0b\x74\x65\x73\x74\x20\x76\x65\x63\x74\x6f\x72\x20\x00\x20\x00\x08\x00\x01\xa1\x47\xe1\x12\xa6\x43\x00\x08\x00\x14\x2b\x91\xf5\x99\xfd\x9e\x90\xc3\x8c\x74\x89\xf9\x2a\xf9\xba\x53\xf0\x6b\xe7\xd7\x80\x28\x00\x04\xc0\x7d\x4c\x96'
seed rfc5769_ipv6 '\x01\x01\x00\x48\x21\x12\xa4\x42\xb7\xe7\xa7\x01\xbc\x34\xd6\x86\xfa\x87\xdf\xae\x80\x22\x00\x0b\x74\x65\x73\x74\x20\x76\x65\x63\x74\x6f\x72\x20\x00\x20\x00\x14\x00\x02\xa1\x47\x01\x13\xa9\xfa\xa5\xd3\xf1\x79\xbc\x25\xf4\xb5\xbe\xd2\xb9\xd9\x00\x08\x00\x14\xa3\x82\x95\x4e\x4b\xe6\x7b\xf1\x17\x84\xc9\x7c\x82\x92\xc2\x75\xbf\xe3\xed\x41\x80\x28\x00\x04\xc8\xfb\x0b\x4c'
seed rfc5769_long_term '\x00\x01\x00\x60\x21\x12\xa4\x42\x78\xad\x34\x33\xc6\xad\x72\xc0\x29\xda\x41\x2e\x00\x06\x00\x12\xe3\x83\x9e\xe3\x83\x88\xe3\x83\xaa\xe3\x83\x83\xe3\x82\xaf\xe3\x82\xb9\x00\x00\x00\x15\x00\x1c\x66\x2f\x2f\x34\x39\x39\x6b\x39\x35\x34\x64\x36\x4f\x4c\x33\x34\x6f\x4c\x39\x46\x53\x54\x76\x79\x36\x34\x73\x41\x00\x14\x00\x0b\x65\x78\x61\x6d\x70\x6c\x65\x2e\x6f\x72\x67\x00\x00\x08\x00\x14\xf6\x70\x24\x65\x6d\xd6\x4a\x3e\x02\xb8\xe0\x71\x2e\x85\xc9\xa2\x8c\xa8\x96\x66'
seed error_401_mapped '\x01\x11\x00\x20\x21\x12\xa4\x42\xb7\xe7\xa7\x01\xbc\x34\xd6\x86\xfa\x87\xdf\xae\x00\x09\x00\x10\x00\x00\x04\x01\x55\x6e\x61\x75\x74\x68\x6f\x72\x69\x7a\x65\x64\x00\x01\x00\x08\x00\x01\x80\x55\xc0\x00\x02\x01'
seed turn_data_indication '\x00\x17\x00\x18\x21\x12\xa4\x42\xb7\xe7\xa7\x01\xbc\x34\xd6\x86\xfa\x87\xdf\xae\x00\x12\x00\x08\x00\x01\xbd\x52\xe1\x12\xa6\x45\x00\x13\x00\x05\x68\x65\x6c\x6c\x6f\x00\x00\x00'
seed turn_allocate_success '\x01\x03\x00\x20\x21\x12\xa4\x42\xb7\xe7\xa7\x01\xbc\x34\xd6\x86\xfa\x87\xdf\xae\x00\x16\x00\x08\x00\x01\xe2\x42\xe1\x12\xa6\x70\x00\x20\x00\x08\x00\x01\x31\x80\xea\x12\xd5\x45\x00\x0d\x00\x04\x00\x00\x02\x58'
seed turn_channel_data '\x40\x01\x00\x05\x68\x65\x6c\x6c\x6f\x00\x00\x00'
