#!/bin/sh
# Writes the seed corpus of ptapi_sip_fuzz into DIR (created if missing): a few SIP messages with CRLF
# line ends (made here with printf, so no binary or CRLF files live in the repository). Idempotent.
# Usage: tests/fuzz/make-corpus.sh DIR
set -eu
dir=${1:?usage: make-corpus.sh DIR}
mkdir -p "$dir"
seed() { printf "$2" > "$dir/$1"; }

sdp='v=0\r\no=- 42 7 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\nm=audio 40000 RTP/AVP 111 0\r\na=rtpmap:111 opus/48000/2\r\na=fmtp:111 useinbandfec=1\r\na=rtpmap:0 PCMU/8000\r\na=ptime:20\r\na=rtcp:40001\r\na=sendrecv\r\n'
seed invite "INVITE sip:bob@biloxi.example.com SIP/2.0\r\nVia: SIP/2.0/UDP pc33.atlanta.example.com:5060;branch=z9hG4bK776asdhds;rport\r\nMax-Forwards: 70\r\nTo: Bob <sip:bob@biloxi.example.com>\r\nFrom: \"Alice \\\\\"A\\\\\"\" <sip:alice@atlanta.example.com>;tag=1928301774\r\nCall-ID: a84b4c76e66710@pc33.atlanta.example.com\r\nCSeq: 314159 INVITE\r\nContact: <sip:alice@pc33.atlanta.example.com;transport=udp>;+sip.instance=\"<urn:uuid:00000000-0000-1000-8000-000A95A0E128>\"\r\nProxy-Authorization: Digest username=\"alice\", realm=\"atlanta.example.com\", nonce=\"wf84f1ceczx41ae6cbe5aea9c8e88d359\", uri=\"sip:bob@biloxi.example.com\", response=\"42ce3cef44b22f50c6a6071bc8\", algorithm=SHA-256, cnonce=\"0a4f113b\", qop=auth, nc=00000001\r\nContent-Type: application/sdp\r\nContent-Length: 207\r\n\r\n$sdp"
seed challenge401 "SIP/2.0 401 Unauthorized\r\nVia: SIP/2.0/UDP [2001:db8::9:1]:5060;branch=z9hG4bKnashds7;received=[2001:db8::9:255]\r\nFrom: <sip:bob@biloxi.example.com>;tag=a73kszlfl\r\nTo: <sip:bob@biloxi.example.com>;tag=1410948204\r\nCall-ID: 1j9FpLxk3uxtm8tn@biloxi.example.com\r\nCSeq: 1 REGISTER\r\nWWW-Authenticate: Digest realm=\"biloxi.example.com\", qop=\"auth,auth-int\", algorithm=SHA-256, nonce=\"ea9c8e88df84f1cec4341ae6cbe5a359\", opaque=\"\", stale=FALSE\r\nWWW-Authenticate: Digest realm=\"biloxi.example.com\", qop=\"auth\", algorithm=MD5, nonce=\"ea9c8e88df84f1cec4341ae6cbe5a359\", opaque=\"a, \\\\\"b\\\\\"\"\r\nWWW-Authenticate: Basic realm=\"x\", Digest realm=\"r\", nonce=\"n\", algorithm=MD5-sess, qop=auth\r\nContent-Length: 0\r\n\r\n"
seed challenge407 "SIP/2.0 407 Proxy Authentication Required\r\nv: SIP/2.0/TCP client.atlanta.example.com:5060;branch=z9hG4bK74bf9 , SIP/2.0/UDP 192.0.2.4\r\nf: Alice <sip:alice@atlanta.example.com>;tag=9fxced76sl\r\nt: Bob <sip:bob@biloxi.example.com>;tag=3flal12sf\r\ni: 3848276298220188511@atlanta.example.com\r\nCSeq: 1 INVITE\r\nProxy-Authenticate: Digest realm=\"atlanta.example.com\", domain=\"sip:ss1.carrier.com\", qop=\"auth\", nonce=\"f84f1cec41e6cbe5aea9c8e88d359\", opaque=\"\", stale=FALSE, algorithm=MD5\r\nl: 0\r\n\r\n"
seed register_lf "REGISTER sip:registrar.biloxi.example.com SIP/2.0\nVia: SIP/2.0/UDP bobspc.biloxi.example.com:5060;branch=z9hG4bKnashds7\nMax-Forwards: 70\nTo: Bob <sip:bob@biloxi.example.com>\nFrom: Bob <sip:bob@biloxi.example.com>;tag=456248\nCall-ID: 843817637684230@998sdasdh09\nCSeq: 1826 REGISTER\nContact: <sip:bob@192.0.2.4>;expires=7200, \"Bob, mobile\" <sips:bob@[2001:db8::10]:5061>;q=0.5\nAuthorization: Digest username=\"bob\", realm=\"biloxi.example.com\", nonce=\"dcd98b7102dd2f0e8b11d0f600bfb0c093\", uri=\"sip:registrar.biloxi.example.com\", response=\"245f23415f11432b3434341c022\"\nExpires: 7200\nl: 0\n\n"
seed wsinv "INVITE sip:vivekg@chair-dnrc.example.com;unknownparam SIP/2.0\r\nTO :\r\n sip:vivekg@chair-dnrc.example.com ;   tag    = 1918181833n\r\nfrom   : \"J Rosenberg \\\\\\\\\\\\\"\"       <sip:jdrosen@example.com>\r\n  ;\r\n  tag = 98asjd8\r\nMaX-fOrWaRdS: 0068\r\nCall-ID: wsinv.ndaksdj@192.0.2.1\r\nContent-Length   : 3\r\ncseq: 0009\r\n  INVITE\r\nVia  : SIP  /   2.0\r\n /UDP\r\n    192.0.2.2;branch=390skdjuw\r\ns :\r\nRoute:\r\n <sip:services.example.com;lr;unknownwith=value;unknown-no-value>\r\nv:  SIP  / 2.0  / TCP     spindle.example.com   ;\r\n  branch  =   z9hG4bK9ikj8  ,\r\n SIP  /    2.0   / UDP  192.168.255.111   ; branch=\r\n z9hG4bK30239\r\nm:\"Quoted string \\\\\"\\\\\"\" <sip:jdrosen@example.com> ; newparam =\r\n      newvalue ;\r\n  secondparam ; q = 0.33\r\n\r\nv=0"
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
