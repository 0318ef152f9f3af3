// SIP message parsing, serialization and stream framing (tspi/sip/message.hpp), and the Via/CSeq values
// (tspi/sip/headers.hpp): RFC 4475 torture tests (the short valid and invalid ones), RFC 5118 IPv6 Via
// values, limits, round trips and TCP framing.
#include <tspi/sip/headers.hpp>
#include <tspi/sip/message.hpp>
#include <tspi/sip/uri.hpp>

#include <catch2/catch.hpp>

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <set>
#include <string>
#include <string_view>
#include <vector>

using namespace tspi::sip;

namespace {

// The test texts are written with '\n'; the wire form has CRLF (RFC 3261 §7).
std::string crlf(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '\n') out += '\r';
    out += c;
  }
  return out;
}

message parse_ok(std::string_view text, const parse_limits& limits = {}) {
  auto m = parse_message(text, limits);
  INFO(text);
  REQUIRE(m);
  return *m;
}

// The RFC 4475 §3.1.1.1 body (150 bytes with CRLF), shared by several torture tests.
const std::string sdp150 = crlf(
    "v=0\n"
    "o=mhandley 29739 7272939 IN IP4 192.0.2.3\n"
    "s=-\n"
    "c=IN IP4 192.0.2.4\n"
    "t=0 0\n"
    "m=audio 49217 RTP/AVP 0 12\n"
    "m=video 3227 RTP/AVP 31\n"
    "a=rtpmap:31 LPC\n");

// The message equals `m` re-parsed from its own to_string() (Content-Length is regenerated).
void check_round_trip(const message& m) {
  const auto text = m.to_string();
  auto back = parse_message(text);
  INFO(text);
  REQUIRE(back);
  CHECK(back->method == m.method);
  CHECK(back->request_uri == m.request_uri);
  CHECK(back->status == m.status);
  CHECK(back->reason == m.reason);
  CHECK(back->body == m.body);
  std::vector<header_field> expected;
  for (const auto& h : m.headers)
    if (!tspi::sip::detail::iequals(h.name, "Content-Length")) expected.push_back(h);
  expected.push_back({"Content-Length", std::to_string(m.body.size())});
  REQUIRE(back->headers.size() == expected.size());
  for (std::size_t i = 0; i < expected.size(); ++i) {
    CHECK(back->headers[i].name == expected[i].name);
    CHECK(back->headers[i].value == expected[i].value);
  }
  CHECK(back->to_string() == text);
}

}  // namespace

TEST_CASE("RFC 4475 3.1.1.1 wsinv: a short tortuous INVITE", "[tspi][sip][message]") {
  REQUIRE(sdp150.size() == 150);
  const std::string text = crlf(
                               "INVITE sip:vivekg@chair-dnrc.example.com;unknownparam SIP/2.0\n"
                               "TO :\n"
                               " sip:vivekg@chair-dnrc.example.com ;   tag    = 1918181833n\n"
                               "from   : \"J Rosenberg \\\\\\\"\"       <sip:jdrosen@example.com>\n"
                               "  ;\n"
                               "  tag = 98asjd8\n"
                               "MaX-fOrWaRdS: 0068\n"
                               "Call-ID: wsinv.ndaksdj@192.0.2.1\n"
                               "Content-Length   : 150\n"
                               "cseq: 0009\n"
                               "  INVITE\n"
                               "Via  : SIP  /   2.0\n"
                               " /UDP\n"
                               "    192.0.2.2;branch=390skdjuw\n"
                               "s :\n"
                               "NewFangledHeader:   newfangled value\n"
                               " continued newfangled value\n"
                               "UnknownHeaderWithUnusualValue: ;;,,;;,;\n"
                               "Content-Type: application/sdp\n"
                               "Route:\n"
                               " <sip:services.example.com;lr;unknownwith=value;unknown-no-value>\n"
                               "v:  SIP  / 2.0  / TCP     spindle.example.com   ;\n"
                               "  branch  =   z9hG4bK9ikj8  ,\n"
                               " SIP  /    2.0   / UDP  192.168.255.111   ; branch=\n"
                               " z9hG4bK30239\n"
                               "m:\"Quoted string \\\"\\\"\" <sip:jdrosen@example.com> ; newparam =\n"
                               "      newvalue ;\n"
                               "  secondparam ; q = 0.33\n"
                               "\n") +
                           sdp150;
  const auto m = parse_ok(text);
  CHECK(m.is_request());
  CHECK(m.method == "INVITE");
  CHECK(m.request_uri == "sip:vivekg@chair-dnrc.example.com;unknownparam");
  CHECK(m.body == sdp150);

  auto to = parse_name_addr(*m.header("To"));
  REQUIRE(to);
  CHECK(to->address.user == "vivekg");
  CHECK(to->tag() == "1918181833n");
  auto from = parse_name_addr(*m.header("From"));
  REQUIRE(from);
  CHECK(from->display_name == "J Rosenberg \\\"");  // quoted-pairs \\ and \" undone
  CHECK(from->tag() == "98asjd8");
  CHECK(m.header("Max-Forwards") == "0068");
  auto cs = parse_cseq(*m.header("CSeq"));
  REQUIRE(cs);
  CHECK(cs->number == 9);
  CHECK(cs->method == "INVITE");
  CHECK(m.header("Subject") == "");  // `s :` with an empty value
  CHECK(m.header("NewFangledHeader") == "newfangled value continued newfangled value");
  CHECK(m.header("UnknownHeaderWithUnusualValue") == ";;,,;;,;");
  CHECK(m.header("Route") == "<sip:services.example.com;lr;unknownwith=value;unknown-no-value>");

  const auto vias = m.headers_named("Via");
  REQUIRE(vias.size() == 3);  // one on its own, two in the compact `v:` line
  auto v0 = parse_via(vias[0]);
  REQUIRE(v0);
  CHECK(v0->transport == "UDP");
  CHECK(v0->host == "192.0.2.2");
  CHECK(v0->branch() == "390skdjuw");
  auto v1 = parse_via(vias[1]);
  REQUIRE(v1);
  CHECK(v1->transport == "TCP");
  CHECK(v1->host == "spindle.example.com");
  CHECK(v1->branch() == "z9hG4bK9ikj8");
  auto v2 = parse_via(vias[2]);
  REQUIRE(v2);
  CHECK(v2->host == "192.168.255.111");
  CHECK(v2->branch() == "z9hG4bK30239");

  auto contact = parse_name_addr(*m.header("Contact"));
  REQUIRE(contact);
  CHECK(contact->display_name == "Quoted string \"\"");
  CHECK(contact->param("newparam") == "newvalue");
  CHECK(contact->param("secondparam") == "");
  CHECK(contact->param("q") == "0.33");

  check_round_trip(m);
}

TEST_CASE("RFC 4475 3.1.1.2 intmeth: wide range of valid characters", "[tspi][sip][message]") {
  using namespace std::string_literals;
  const std::string method = "!interesting-Method0123456789_*+`.%indeed'~";
  const std::string ruri = "sip:1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*:&it+has=1,weird!*pas$wo~d_too.(doesn't-it)@example.com";
  const std::string text = method + " " + ruri + " SIP/2.0\r\n" +
                           "Via: SIP/2.0/TCP host1.example.com;branch=z9hG4bK-.!%66*_+`'~\r\n"
                           "To: \"BEL:\\\x07 NUL:\\"s + '\0' + " DEL:\\\x7f\" <sip:1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*@example.com>\r\n"
                           "From: token1~` token2'+_ token3*%!.- <sip:mundane@example.com>;fromParam''~+*_!.-%="
                           "\"\xd1\x80\xd0\xb0\xd0\xb1\xd0\xbe\xd1\x82\xd0\xb0\xd1\x8e\xd1\x89\xd0\xb8\xd0\xb9\";tag=_token~1'+`*%!-.\r\n"
                           "Call-ID: intmeth.word%ZK-!.*_+'@word`~)(><:\\/\"][?}{\r\n"
                           "CSeq: 139122385 " + method + "\r\n"
                           "Max-Forwards: 255\r\n"
                           "extensionHeader-!.%*+_`'~:\xef\xbb\xbf\xe5\xa4\xa7\xe5\x81\x9c\xe9\x9b\xbb\r\n"
                           "Content-Length: 0\r\n\r\n";
  const auto m = parse_ok(text);
  CHECK(m.method == method);
  CHECK(m.request_uri == ruri);
  auto u = parse_uri(m.request_uri);
  REQUIRE(u);
  CHECK(u->user == "1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*");
  CHECK(u->password == "&it+has=1,weird!*pas$wo~d_too.(doesn't-it)");
  CHECK(u->host == "example.com");
  CHECK(u->headers.empty());
  auto cs = parse_cseq(*m.header("CSeq"));
  REQUIRE(cs);
  CHECK(cs->method == method);
  auto to = parse_name_addr(*m.header("To"));
  REQUIRE(to);
  CHECK(to->display_name == "BEL:\x07 NUL:"s + '\0' + " DEL:\x7f");
  CHECK(to->address.user == "1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*");
  auto from = parse_name_addr(*m.header("From"));
  REQUIRE(from);
  CHECK(from->display_name == "token1~` token2'+_ token3*%!.-");
  CHECK(from->tag() == "_token~1'+`*%!-.");
  CHECK(from->params.size() == 2);
  auto via = parse_via(*m.header("Via"));
  REQUIRE(via);
  CHECK(via->branch() == "z9hG4bK-.!%66*_+`'~");
  CHECK(m.header("Call-ID") == "intmeth.word%ZK-!.*_+'@word`~)(><:\\/\"][?}{");
  CHECK(m.header("extensionHeader-!.%*+_`'~") == "\xef\xbb\xbf\xe5\xa4\xa7\xe5\x81\x9c\xe9\x9b\xbb");
  check_round_trip(m);
  // The display name with control characters is written back escaped and reads back the same.
  auto again = parse_name_addr(to->to_string());
  REQUIRE(again);
  CHECK(again->display_name == to->display_name);
}

TEST_CASE("RFC 4475 escaped characters: esc01, escnull, esc02", "[tspi][sip][message]") {
  const auto esc01 = parse_ok(crlf("INVITE sip:sips%3Auser%40example.com@example.net SIP/2.0\n"
                                   "To: sip:%75se%72@example.com\n"
                                   "From: <sip:I%20have%20spaces@example.net>;tag=938\n"
                                   "Max-Forwards: 87\n"
                                   "i: esc01.239409asdfakjkn23onasd0-3234\n"
                                   "CSeq: 234234 INVITE\n"
                                   "Via: SIP/2.0/UDP host5.example.net;branch=z9hG4bKkdjuw\n"
                                   "C: application/sdp\n"
                                   "Contact:\n"
                                   "  <sip:cal%6Cer@host5.example.net;%6C%72;n%61me=v%61lue%25%34%31>\n"
                                   "Content-Length: 150\n"
                                   "\n") +
                              sdp150);
  auto ruri = parse_uri(esc01.request_uri);
  REQUIRE(ruri);
  CHECK(ruri->user == "sips%3Auser%40example.com");  // escapes are kept as received
  CHECK(ruri->host == "example.net");
  CHECK(esc01.header("Call-ID") == "esc01.239409asdfakjkn23onasd0-3234");
  CHECK(esc01.header("Content-Type") == "application/sdp");
  auto to = parse_name_addr(*esc01.header("To"));
  REQUIRE(to);
  CHECK(to->address.user == "%75se%72");
  auto contact = parse_name_addr(*esc01.header("Contact"));
  REQUIRE(contact);
  CHECK(contact->address.param("%6C%72") == "");
  CHECK(contact->address.param("n%61me") == "v%61lue%25%34%31");

  const auto escnull = parse_ok(crlf("REGISTER sip:example.com SIP/2.0\n"
                                     "To: sip:null-%00-null@example.com\n"
                                     "From: sip:null-%00-null@example.com;tag=839923423\n"
                                     "Max-Forwards: 70\n"
                                     "Call-ID: escnull.39203ndfvkjdasfkq3w4otrq0adsfdfnavd\n"
                                     "CSeq: 14398234 REGISTER\n"
                                     "Via: SIP/2.0/UDP host5.example.com;branch=z9hG4bKkdjuw\n"
                                     "Contact: <sip:%00@host5.example.com>\n"
                                     "Contact: <sip:%00%00@host5.example.com>\n"
                                     "L:0\n"
                                     "\n"));
  const auto contacts = escnull.headers_named("Contact");
  REQUIRE(contacts.size() == 2);
  CHECK(parse_name_addr(contacts[1])->address.user == "%00%00");
  auto from = parse_name_addr(*escnull.header("From"));
  REQUIRE(from);
  CHECK(from->address.user == "null-%00-null");
  CHECK(from->tag() == "839923423");  // addr-spec form: ;tag is a header parameter
  CHECK(escnull.header("Content-Length") == "0");

  // esc02: an escaped method is a different (unknown) method, not REGISTER.
  const auto esc02 = parse_ok(crlf("RE%47IST%45R sip:registrar.example.com SIP/2.0\n"
                                   "To: \"%Z%45\" <sip:resource@example.com>\n"
                                   "From: \"%Z%45\" <sip:resource@example.com>;tag=f232jadfj23\n"
                                   "Call-ID: esc02.asdfnqwo34rq23i34jrjasdcnl23nrlknsdf\n"
                                   "Via: SIP/2.0/TCP host.example.com;rport;branch=z9hG4bK209323\n"
                                   "CSeq: 29344 RE%47IST%45R\n"
                                   "Max-Forwards: 70\n"
                                   "Contact: <sip:alias1@host1.example.com>\n"
                                   "C%6Fntact: <sip:alias2@host2.example.com>\n"
                                   "Contact: <sip:alias3@host3.example.com>\n"
                                   "l: 0\n"
                                   "\n"));
  CHECK(esc02.method == "RE%47IST%45R");
  CHECK(esc02.headers_named("Contact").size() == 2);  // C%6Fntact is another header
  CHECK(esc02.header("C%6Fntact"));
  CHECK(parse_name_addr(*esc02.header("To"))->display_name == "%Z%45");
  CHECK(parse_via(*esc02.header("Via"))->param("rport") == "");
}

TEST_CASE("RFC 4475 lwsdisp, semiuri, transports, unreason, noreason, dblreq", "[tspi][sip][message]") {
  const auto lwsdisp = parse_ok(crlf("OPTIONS sip:user@example.com SIP/2.0\n"
                                     "To: sip:user@example.com\n"
                                     "From: caller<sip:caller@example.com>;tag=323\n"
                                     "Max-Forwards: 70\n"
                                     "Call-ID: lwsdisp.1234abcd@funky.example.com\n"
                                     "CSeq: 60 OPTIONS\n"
                                     "Via: SIP/2.0/UDP funky.example.com;branch=z9hG4bKkdjuw\n"
                                     "l: 0\n"
                                     "\n"));
  auto from = parse_name_addr(*lwsdisp.header("From"));
  REQUIRE(from);
  CHECK(from->display_name == "caller");
  CHECK(from->tag() == "323");

  const auto semiuri = parse_ok(crlf("OPTIONS sip:user;par=u%40example.net@example.com SIP/2.0\n"
                                     "To: sip:j_user@example.com\n"
                                     "From: sip:caller@example.org;tag=33242\n"
                                     "Max-Forwards: 3\n"
                                     "Call-ID: semiuri.0ha0isndaksdj\n"
                                     "CSeq: 8 OPTIONS\n"
                                     "Accept: application/sdp, application/pkcs7-mime,\n"
                                     "        multipart/mixed, multipart/signed,\n"
                                     "        message/sip, message/sipfrag\n"
                                     "Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKkdjuw\n"
                                     "l: 0\n"
                                     "\n"));
  auto u = parse_uri(semiuri.request_uri);
  REQUIRE(u);
  CHECK(u->user == "user;par=u%40example.net");
  CHECK(u->host == "example.com");
  CHECK(u->params.empty());
  CHECK(semiuri.header("Accept") ==
        "application/sdp, application/pkcs7-mime, multipart/mixed, multipart/signed, message/sip, message/sipfrag");

  const auto transports = parse_ok(crlf("OPTIONS sip:user@example.com SIP/2.0\n"
                                        "To: sip:user@example.com\n"
                                        "From: <sip:caller@example.com>;tag=323\n"
                                        "Max-Forwards: 70\n"
                                        "Call-ID:  transports.kijh4akdnaqjkwendsasfdj\n"
                                        "Accept: application/sdp\n"
                                        "CSeq: 60 OPTIONS\n"
                                        "Via: SIP/2.0/UDP t1.example.com;branch=z9hG4bKkdjuw\n"
                                        "Via: SIP/2.0/SCTP t2.example.com;branch=z9hG4bKklasjdhf\n"
                                        "Via: SIP/2.0/TLS t3.example.com;branch=z9hG4bK2980unddj\n"
                                        "Via: SIP/2.0/UNKNOWN t4.example.com;branch=z9hG4bKasd0f3en\n"
                                        "Via: SIP/2.0/TCP t5.example.com;branch=z9hG4bK0a9idfnee\n"
                                        "l: 0\n"
                                        "\n"));
  const auto vias = transports.headers_named("Via");
  REQUIRE(vias.size() == 5);
  const char* expected[] = {"UDP", "SCTP", "TLS", "UNKNOWN", "TCP"};
  for (std::size_t i = 0; i < 5; ++i) {
    auto v = parse_via(vias[i]);
    REQUIRE(v);
    CHECK(v->transport == expected[i]);
  }
  CHECK(transports.header("Call-ID") == "transports.kijh4akdnaqjkwendsasfdj");

  const auto unreason = parse_ok(crlf("SIP/2.0 200 = 2**3 * 5**2 \xd0\xbd\xd0\xbe \xd1\x81\xd1\x82\xd0\xbe\n"
                                      "Via: SIP/2.0/UDP 192.0.2.198;branch=z9hG4bK1324923\n"
                                      "Call-ID: unreason.1234ksdfak3j2erwedfsASdf\n"
                                      "CSeq: 35 INVITE\n"
                                      "From: sip:user@example.com;tag=11141343\n"
                                      "To: sip:user@example.edu;tag=2229\n"
                                      "Content-Length: 154\n"
                                      "Content-Type: application/sdp\n"
                                      "Contact: <sip:user@host198.example.com>\n"
                                      "\n") +
                                 crlf("v=0\n"
                                      "o=mhandley 29739 7272939 IN IP4 192.0.2.198\n"
                                      "s=-\n"
                                      "c=IN IP4 192.0.2.198\n"
                                      "t=0 0\n"
                                      "m=audio 49217 RTP/AVP 0 12\n"
                                      "m=video 3227 RTP/AVP 31\n"
                                      "a=rtpmap:31 LPC\n"));
  CHECK_FALSE(unreason.is_request());
  CHECK(unreason.status == 200);
  CHECK(unreason.reason == "= 2**3 * 5**2 \xd0\xbd\xd0\xbe \xd1\x81\xd1\x82\xd0\xbe");
  CHECK(unreason.body.size() == 154);

  const auto noreason = parse_ok(crlf("SIP/2.0 100 \n"
                                      "Via: SIP/2.0/UDP 192.0.2.105;branch=z9hG4bK2398ndaoe\n"
                                      "Call-ID: noreason.asndj203insdf99223ndf\n"
                                      "CSeq: 35 INVITE\n"
                                      "From: <sip:user@example.com>;tag=39ansfi3\n"
                                      "To: <sip:user@example.edu>;tag=902jndnke3\n"
                                      "Content-Length: 0\n"
                                      "Contact: <sip:user@host105.example.com>\n"
                                      "\n"));
  CHECK(noreason.status == 100);
  CHECK(noreason.reason.empty());
  check_round_trip(noreason);

  // dblreq: two requests in one datagram; Content-Length 0 ends the first, the rest is ignored.
  const auto dbl = parse_ok(crlf("REGISTER sip:example.com SIP/2.0\n"
                                 "To: sip:j.user@example.com\n"
                                 "From: sip:j.user@example.com;tag=43251j3j324\n"
                                 "Max-Forwards: 8\n"
                                 "I: dblreq.0ha0isndaksdj99sdfafnl3lk233412\n"
                                 "Contact: sip:j.user@host.example.com\n"
                                 "CSeq: 8 REGISTER\n"
                                 "Via: SIP/2.0/UDP 192.0.2.125;branch=z9hG4bKkdjuw23492\n"
                                 "Content-Length: 0\n"
                                 "\n"
                                 "INVITE sip:joe@example.com SIP/2.0\n"
                                 "t: sip:joe@example.com\n"
                                 "From: sip:caller@example.net;tag=141334\n"
                                 "\n"));
  CHECK(dbl.method == "REGISTER");
  CHECK(dbl.body.empty());
  CHECK(dbl.header("Call-ID") == "dblreq.0ha0isndaksdj99sdfafnl3lk233412");
}

TEST_CASE("compact forms, LF-only line ends, folding and lists are normalized", "[tspi][sip][message]") {
  // LF-only (lenient senders), every compact form, a folded value, a list of Contacts and Routes.
  const std::string text =
      "INVITE sip:bob@biloxi.com SIP/2.0\n"
      "v: SIP/2.0/UDP pc33.atlanta.com;branch=z9hG4bK776asdhds , SIP/2.0/TCP [2001:db8::9:1]:5070;branch=z9hG4bKx\n"
      "f: \"Alice, A.\" <sip:alice@atlanta.com>;tag=1928301774\n"
      "t: Bob <sip:bob@biloxi.com>\n"
      "i: a84b4c76e66710@pc33.atlanta.com\n"
      "m: <sip:alice@pc33.atlanta.com>;expires=60, \"Al,ice\" <sip:a2@h>\n"
      "c: application/sdp\n"
      "e: gzip\n"
      "k: 100rel\n"
      "s: Lunch\n"
      "\t at noon\n"
      "r: <sip:carol@chicago.com>\n"
      "o: refer\n"
      "x: 1800\n"
      "Route: <sip:p1.example.com;lr>, <sip:p2.example.com;lr>\n"
      "CSeq: 314159 INVITE\n"
      "l: 5\n"
      "\n"
      "v=0\r\nextra";
  const auto m = parse_ok(text);
  CHECK(m.body == "v=0\r\n");
  REQUIRE(m.headers_named("Via").size() == 2);
  CHECK(parse_via(m.headers_named("Via")[1])->host == "2001:db8::9:1");
  CHECK(parse_via(m.headers_named("Via")[1])->port == 5070);
  CHECK(m.header("From") == "\"Alice, A.\" <sip:alice@atlanta.com>;tag=1928301774");  // not a list header
  CHECK(m.header("To") == "Bob <sip:bob@biloxi.com>");
  CHECK(m.header("Call-ID") == "a84b4c76e66710@pc33.atlanta.com");
  const auto contacts = m.headers_named("Contact");
  REQUIRE(contacts.size() == 2);
  CHECK(contacts[0] == "<sip:alice@pc33.atlanta.com>;expires=60");
  CHECK(contacts[1] == "\"Al,ice\" <sip:a2@h>");
  CHECK(m.header("Content-Type") == "application/sdp");
  CHECK(m.header("Content-Encoding") == "gzip");
  CHECK(m.header("Supported") == "100rel");
  CHECK(m.header("Subject") == "Lunch at noon");
  CHECK(m.header("Refer-To") == "<sip:carol@chicago.com>");
  CHECK(m.header("Event") == "refer");
  CHECK(m.header("Session-Expires") == "1800");
  CHECK(m.headers_named("Route").size() == 2);
  CHECK(m.header("content-length") == "5");
  check_round_trip(m);
  const auto out = m.to_string();
  CHECK(out.find("\nVia: SIP/2.0/UDP pc33.atlanta.com;branch=z9hG4bK776asdhds\r\nVia: SIP/2.0/TCP") != std::string::npos);
  CHECK(out.find("Subject: Lunch at noon\r\n") != std::string::npos);
  CHECK(out.find("\r\n\r\nv=0\r\n") != std::string::npos);
  auto more = m;
  more.add_to_list("Supported", "timer");  // joins the existing field
  more.add_to_list("Require", "100rel");   // absent: a new field
  CHECK(more.headers_named("Supported") == std::vector<std::string_view>{"100rel, timer"});
  CHECK(more.header("Require") == "100rel");
  CHECK(out.find("extra") == std::string::npos);

  // `Contact: *` is not split; a mixed CRLF/LF header still ends at the first empty line.
  const auto star = parse_ok("REGISTER sip:r SIP/2.0\r\nContact: *\nExpires: 0\r\n\nbody");
  CHECK(star.header("Contact") == "*");
  CHECK(star.body == "body");  // no Content-Length (UDP): the rest of the datagram
  // Lower-case version and leading keep-alive CRLFs.
  const auto lower = parse_ok("\r\n\r\nsip/2.0 180 Ringing\r\nCSeq: 1 INVITE\r\n\r\n");
  CHECK(lower.status == 180);
  CHECK(lower.reason == "Ringing");
}

TEST_CASE("message accessors", "[tspi][sip][message]") {
  message m;
  m.method = "OPTIONS";
  m.request_uri = "sip:a@b";
  m.add("Via", "SIP/2.0/UDP h1;branch=z9hG4bK1");
  m.add("Accept", "a");
  m.add("Accept", "b");
  m.prepend("Via", "SIP/2.0/UDP h0;branch=z9hG4bK0");
  CHECK(m.headers_named("Via") == std::vector<std::string_view>{"SIP/2.0/UDP h0;branch=z9hG4bK0", "SIP/2.0/UDP h1;branch=z9hG4bK1"});
  m.set("accept", "c");
  CHECK(m.headers_named("Accept") == std::vector<std::string_view>{"c"});
  m.set("Max-Forwards", "70");
  CHECK(m.headers.back().name == "Max-Forwards");
  m.remove("VIA");
  CHECK_FALSE(m.header("Via"));
  m.add("Content-Length", "999");  // ignored: written from the body
  m.body = "xyz";
  const auto text = m.to_string();
  CHECK(text == "OPTIONS sip:a@b SIP/2.0\r\nAccept: c\r\nMax-Forwards: 70\r\nContent-Length: 3\r\n\r\nxyz");
  CHECK(parse_ok(text).body == "xyz");
}

TEST_CASE("RFC 4475 invalid messages are rejected by the parser", "[tspi][sip][message]") {
  const std::string headers = crlf("To: sip:j.user@example.com\n"
                                   "From: sip:caller@example.net;tag=134161461246\n"
                                   "Max-Forwards: 7\n"
                                   "Call-ID: x\n"
                                   "CSeq: 8 OPTIONS\n"
                                   "Via: SIP/2.0/UDP 192.0.2.15;branch=z9hG4bKkdjuw\n");
  auto rejects = [&](std::string_view start_line, std::string_view extra = "Content-Length: 0\r\n", std::string_view body = "") {
    const std::string text = std::string(start_line) + "\r\n" + headers + std::string(extra) + "\r\n" + std::string(body);
    INFO(text);
    CHECK_FALSE(parse_message(text));
  };
  // Control: the same message with a good start line parses.
  REQUIRE(parse_message("OPTIONS sip:user@example.com SIP/2.0\r\n" + headers + "Content-Length: 0\r\n\r\n"));

  rejects("OPTIONS sip:t.watson@example.org SIP/7.0");           // badvers
  rejects("OPTIONS sip:t.watson@example.org SIP/2.0.1");
  rejects("SIP/7.0 200 OK");
  rejects("OPTIONS sip:remote-target@example.com SIP/2.0  ");   // trws: trailing SP
  rejects("INVITE sip:user@example.com; lr SIP/2.0");           // lwsruri: LWS inside the Request-URI
  rejects("INVITE sip:user@example.com\tx SIP/2.0");
  rejects("SIP/2.0 4294967301 better not break the receiver");  // bigcode
  rejects("SIP/2.0 99 Too Low");
  rejects("SIP/2.0 700 Too High");
  rejects("SIP/2.0 +20 Sign");
  rejects("SIP/2.0  200 Two SPs");
  rejects("SIP/2.0 2000 Four");
  rejects("OPTIONS");                                            // bad start lines
  rejects("OPTIONS sip:user@example.com");
  rejects("OPT IONS sip:user@example.com SIP/2.0");
  rejects("OPTIONS SIP/2.0");
  rejects("OPT:IONS sip:a@b SIP/2.0");
  rejects("");
  rejects(" OPTIONS sip:user@example.com SIP/2.0");
  rejects("OPTIONS sip:a@b SIP/2.0", "Content-Length: 9999\r\n", "short");  // clerr: Content-Length beyond the body
  rejects("OPTIONS sip:a@b SIP/2.0", "Content-Length: -999\r\n");          // scalar02: negative
  rejects("OPTIONS sip:a@b SIP/2.0", "Content-Length: 18446744073709551618\r\n");  // scalarlg
  rejects("OPTIONS sip:a@b SIP/2.0", "Content-Length: 18446744073709551615\r\n");
  rejects("OPTIONS sip:a@b SIP/2.0", "Content-Length: +0\r\n");
  rejects("OPTIONS sip:a@b SIP/2.0", "Content-Length: 0x10\r\n");
  rejects("OPTIONS sip:a@b SIP/2.0", "Content-Length: \r\n");
  rejects("OPTIONS sip:a@b SIP/2.0", "Content-Length: 3\r\nl: 4\r\n", "abcd");  // two different lengths
  rejects("OPTIONS sip:a@b SIP/2.0", "Content-Length 0\r\n");                 // missing colon
  rejects("OPTIONS sip:a@b SIP/2.0", "Bad Name: 1\r\n");
  rejects("OPTIONS sip:a@b SIP/2.0", ": no name\r\n");
  rejects("OPTIONS sip:a@b SIP/2.0", "Ba(d: 1\r\n");
  CHECK_FALSE(parse_message("OPTIONS sip:a@b SIP/2.0\r\n continued start line\r\nCSeq: 1 OPTIONS\r\n\r\n"));
  CHECK_FALSE(parse_message("OPTIONS sip:a@b SIP/2.0\r\nCSeq: 1 OPTIONS\r\n"));  // truncated: no empty line
  CHECK_FALSE(parse_message(""));
  CHECK_FALSE(parse_message("\r\n\r\n"));
  CHECK_FALSE(parse_message("\n\n"));
  // Equal duplicates of Content-Length are fine.
  CHECK(parse_message("OPTIONS sip:a@b SIP/2.0\r\nContent-Length: 2\r\nl: 2\r\n\r\nab"));

  // Messages the parser takes but whose elements are malformed, caught by the element parsers:
  // scalar02/scalarlg CSeq, ltgtruri, escruri, unkscm, novelsc, quotbal, unksm2, badinv01.
  CHECK_FALSE(parse_cseq("-3 INVITE"));
  CHECK_FALSE(parse_cseq("36893488147419103232 REGISTER"));
  CHECK_FALSE(parse_cseq("2147483648 INVITE"));
  CHECK(parse_cseq("2147483647 INVITE"));
  CHECK_FALSE(parse_cseq("1"));
  CHECK_FALSE(parse_cseq("1 INV ITE"));
  auto ltgt = parse_message("INVITE <sip:user@example.com> SIP/2.0\r\n" + headers + "l: 0\r\n\r\n");
  REQUIRE(ltgt);
  CHECK_FALSE(parse_uri(ltgt->request_uri));
  auto escruri = parse_uri("sip:user@example.com?Route=%3Csip:example.com%3E");
  REQUIRE(escruri);
  CHECK(escruri->headers == "Route=%3Csip:example.com%3E");  // a UA must reject headers in a Request-URI
  CHECK_FALSE(parse_uri("nobodyknowsthisscheme:totallyopaquecontent"));
  CHECK_FALSE(parse_uri("soap.beep://192.0.2.103:3002"));
  CHECK_FALSE(parse_name_addr("\"Mr. J. User <sip:j.user@example.com>"));
  CHECK_FALSE(parse_name_addr("isbn:2983792873"));
  auto badinv01 = parse_message("INVITE sip:user@example.com SIP/2.0\r\n" + headers +
                                "Via: SIP/2.0/UDP 192.0.2.15;;,;,,\r\nContact: \"Joe\" <sip:joe@example.org>;;;;\r\nl: 0\r\n\r\n");
  REQUIRE(badinv01);
  const auto vias = badinv01->headers_named("Via");
  REQUIRE(vias.size() == 3);
  CHECK(vias[2] == ";");
  CHECK_FALSE(parse_via(vias[2]));
}

TEST_CASE("parse_limits bound size, header count, line length and body", "[tspi][sip][message]") {
  parse_limits small;
  small.max_message_bytes = 400;
  small.max_headers = 4;
  small.max_line_bytes = 60;
  small.max_body_bytes = 10;
  const std::string start = "MESSAGE sip:a@b SIP/2.0\r\n";
  auto with = [&](const std::string& hdrs, const std::string& body = "") { return start + hdrs + "\r\n" + body; };

  CHECK(parse_message(with("A: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\n"), small));
  CHECK_FALSE(parse_message(with("A: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\nE: 5\r\n"), small));  // 5 headers
  CHECK_FALSE(parse_message(with("Via: SIP/2.0/UDP a, SIP/2.0/UDP b, SIP/2.0/UDP c\r\nA: 1\r\nB: 2\r\n"), small));  // lists count
  CHECK(parse_message(with("Via: SIP/2.0/UDP a, SIP/2.0/UDP b, SIP/2.0/UDP c\r\nA: 1\r\n"), small));
  const std::string line60 = "X: " + std::string(57, 'x');
  CHECK(parse_message(with(line60 + "\r\n"), small));
  CHECK_FALSE(parse_message(with(line60 + "y\r\n"), small));
  CHECK_FALSE(parse_message(with("X: " + std::string(40, 'x') + "\r\n " + std::string(30, 'y') + "\r\n"), small));  // folded
  CHECK_FALSE(parse_message(std::string(70, 'M') + " sip:a@b SIP/2.0\r\n\r\n", small));  // the start line counts
  CHECK(parse_message(with("l: 10\r\n", "0123456789"), small));
  CHECK_FALSE(parse_message(with("l: 11\r\n", "0123456789a"), small));
  CHECK_FALSE(parse_message(with("", "0123456789a"), small));  // no Content-Length: the rest, too long
  small.max_headers = 20;
  small.max_line_bytes = 400;
  // Exactly 400 bytes: a start line, one long header, Content-Length 0, the empty line.
  const std::string tail = "l: 0\r\n\r\n";
  const std::string at_limit = start + "Z: " + std::string(400 - start.size() - tail.size() - 5, 'z') + "\r\n" + tail;
  REQUIRE(at_limit.size() == 400);
  CHECK(parse_message(at_limit, small));
  CHECK_FALSE(parse_message(at_limit + "x", small));  // 401 bytes, even though the extra byte is not body
  CHECK(parse_message("\r\n\r\n" + at_limit, small));  // leading keep-alive CRLFs are not counted

  // Defaults: a 65535-byte datagram is the ceiling; 96 headers; 4096-byte lines.
  const parse_limits d;
  CHECK(d.max_message_bytes == 65535);
  std::string many_headers = start;
  for (int i = 0; i < 96; ++i) many_headers += "H" + std::to_string(i) + ": v\r\n";
  CHECK(parse_message(many_headers + "\r\n"));
  CHECK_FALSE(parse_message(many_headers + "H96: v\r\n\r\n"));
  std::string long_line = start + "X: " + std::string(4094, 'x') + "\r\n\r\n";
  CHECK_FALSE(parse_message(long_line));
  CHECK(parse_message(start + "X: " + std::string(4093, 'x') + "\r\n\r\n"));
  CHECK_FALSE(parse_message(start + "l: 70000\r\n\r\n" + std::string(70000, 'b')));
}

TEST_CASE("unterminated quotes and brackets stay inside one value", "[tspi][sip][message]") {
  const auto m = parse_ok(
      "INVITE sip:a@b SIP/2.0\r\n"
      "Contact: \"unterminated, <sip:x@y>, <sip:z@w>\r\n"
      "Route: <sip:p1@h;lr, <sip:p2@h;lr>\r\n"
      "Via: SIP/2.0/UDP h;x=\"a\\\",b\", SIP/2.0/UDP g\r\n"
      "\r\n");
  REQUIRE(m.headers_named("Contact").size() == 1);
  CHECK_FALSE(parse_name_addr(*m.header("Contact")));
  REQUIRE(m.headers_named("Route").size() == 1);
  CHECK_FALSE(parse_name_addr(*m.header("Route")));
  const auto vias = m.headers_named("Via");
  REQUIRE(vias.size() == 2);
  auto v = parse_via(vias[0]);
  REQUIRE(v);
  CHECK(v->param("x") == "\"a\\\",b\"");
  check_round_trip(m);
}

TEST_CASE("Via values: RFC 3261 §20.42, RFC 3581, RFC 5118 IPv6", "[tspi][sip][headers]") {
  auto v = parse_via("SIP/2.0/UDP erlang.bell-telephone.com:5060;branch=z9hG4bK87asdks7");
  REQUIRE(v);
  CHECK(v->transport == "UDP");
  CHECK(v->host == "erlang.bell-telephone.com");
  CHECK(v->port == 5060);
  CHECK(v->branch() == "z9hG4bK87asdks7");
  v = parse_via("SIP/2.0/tcp 192.0.2.1:5060 ;received=192.0.2.207;branch=z9hG4bK77asjd;rport=5066");
  REQUIRE(v);
  CHECK(v->transport == "TCP");
  CHECK(v->param("received") == "192.0.2.207");
  CHECK(v->param("rport") == "5066");
  v->set_param("rport", "6000");
  v->set_param("maddr", "224.2.0.1");
  CHECK(v->to_string() == "SIP/2.0/TCP 192.0.2.1:5060;received=192.0.2.207;branch=z9hG4bK77asjd;rport=6000;maddr=224.2.0.1");
  // RFC 5118 §4.5/4.6: IPv6 sent-by and received, with and without brackets in the parameter.
  v = parse_via("SIP/2.0/UDP [2001:db8::9:1];received=[2001:db8::9:255];branch=z9hG4bKas3-111");
  REQUIRE(v);
  CHECK(v->host == "2001:db8::9:1");
  CHECK(v->port == 0);
  CHECK(v->param("received") == "[2001:db8::9:255]");
  CHECK(v->to_string() == "SIP/2.0/UDP [2001:db8::9:1];received=[2001:db8::9:255];branch=z9hG4bKas3-111");
  v = parse_via("SIP/2.0/UDP [2001:db8::9:1]:6050;received=2001:db8::9:255;branch=z9hG4bKas3");
  REQUIRE(v);
  CHECK(v->port == 6050);
  CHECK(v->param("received") == "2001:db8::9:255");
  v = parse_via("SIP/2.0/UDP [::ffff:192.0.2.10]:19823;branch=z9hG4bKbh19");
  REQUIRE(v);
  CHECK(v->host == "::ffff:192.0.2.10");

  for (const char* bad : {"SIP/2.0/UDP 2001:db8::9:1;branch=z9hG4bKas3",  // IPv6 without brackets
                          "SIP/2.0/UDP [2001:db8::9:1;branch=x", "SIP/2.0/UDP [2001:db8::9:1]:;branch=x",
                          "SIP/2.0/UDP [2001:db8::9:1]x", "SIP/2.0/UDP []", "SIP/2.0/UDP [host]", "SIP/2.0/UDP host:",
                          "SIP/2.0/UDP host:0", "SIP/2.0/UDP host:65536", "SIP/2.0/UDP host:+1", "SIP/2.0/UDP host extra",
                          "SIP/2.0/UDP", "SIP/2.0 UDP host", "SIP/3.0/UDP host", "SIP/2.0/UDP/X host", "SIP/2.0/ host",
                          "SIP/2.0/UDP ;branch=x", "SIP/2.0/UDP h o;branch=x", "SIP/2.0/UDP host;bad name=1", ";", "", "SIP/2.0/UDP ho\"st"}) {
    INFO(bad);
    CHECK_FALSE(parse_via(bad));
  }
  CHECK(make_branch().rfind("z9hG4bK", 0) == 0);
  CHECK(make_branch() != make_branch());
  CHECK(random_token(10).size() == 10);
  CHECK(reason_phrase(486) == "Busy Here");
  CHECK(reason_phrase(299).empty());
}

TEST_CASE("framed_length frames a TCP stream", "[tspi][sip][message][framing]") {
  const std::string m1 = "INVITE sip:bob@biloxi.com SIP/2.0\r\nCSeq: 1 INVITE\r\nContent-Length: 5\r\n\r\nhello";
  const std::string m2 = "SIP/2.0 200 OK\r\nl: 0\r\n\r\n";

  // Partial: nothing until the whole header and body are there.
  for (std::size_t n = 0; n < m1.size(); ++n) {
    INFO(n);
    CHECK(framed_length(std::string_view(m1).substr(0, n)) == std::optional<std::size_t>(0));
  }
  CHECK(framed_length(m1) == m1.size());
  // Pipelined: the first message, then the second from the rest.
  const std::string both = m1 + m2;
  REQUIRE(framed_length(both) == m1.size());
  CHECK(framed_length(std::string_view(both).substr(m1.size())) == m2.size());
  auto first = parse_message(std::string_view(both).substr(0, *framed_length(both)));
  REQUIRE(first);
  CHECK(first->body == "hello");
  // Keep-alive CRLFs before a message belong to its frame; CRLFs alone are not a message yet.
  const std::string ka = "\r\n\r\n\r\n" + m2;
  CHECK(framed_length(ka) == ka.size());
  CHECK(parse_message(ka));
  CHECK(framed_length("\r\n\r\n") == std::optional<std::size_t>(0));
  CHECK(framed_length("\r\n") == std::optional<std::size_t>(0));
  CHECK(framed_length("") == std::optional<std::size_t>(0));
  // Folded and compact Content-Length; LF-only header ends (as parse_message reads them).
  const std::string folded = "MESSAGE sip:a@b SIP/2.0\r\nContent-Length:\r\n  3\r\n\r\nabcXYZ";
  CHECK(framed_length(folded) == folded.size() - 3);
  CHECK(parse_message(folded.substr(0, folded.size() - 3))->body == "abc");
  const std::string lf = "MESSAGE sip:a@b SIP/2.0\nl: 2\n\nab";
  CHECK(framed_length(lf) == lf.size());
  CHECK(framed_length(lf + "MESSAGE") == lf.size());

  // Unframeable streams: the connection must be closed.
  CHECK_FALSE(framed_length("MESSAGE sip:a@b SIP/2.0\r\nCSeq: 1 MESSAGE\r\n\r\n"));  // no Content-Length
  CHECK_FALSE(framed_length("MESSAGE sip:a@b SIP/2.0\r\nContent-Length: -1\r\n\r\n"));
  CHECK_FALSE(framed_length("MESSAGE sip:a@b SIP/2.0\r\nContent-Length: 1 2\r\n\r\n"));
  CHECK_FALSE(framed_length("MESSAGE sip:a@b SIP/2.0\r\nContent-Length: 1\r\nl: 2\r\n\r\nab"));
  // A Content-Length near SIZE_MAX must not wrap around into a short frame.
  CHECK_FALSE(framed_length("MESSAGE sip:a@b SIP/2.0\r\nContent-Length: 18446744073709551615\r\n\r\nabc"));
  CHECK_FALSE(framed_length("MESSAGE sip:a@b SIP/2.0\r\nContent-Length: 18446744073709551550\r\n\r\nabc"));
  CHECK_FALSE(framed_length("MESSAGE sip:a@b SIP/2.0\r\nContent-Length: 18446744073709551616\r\n\r\n"));
  // Oversize: a header that never ends, a body too long, too many keep-alive CRLFs.
  parse_limits small;
  small.max_message_bytes = 100;
  CHECK(framed_length(std::string(100, 'a'), small) == std::optional<std::size_t>(0));
  CHECK_FALSE(framed_length(std::string(101, 'a'), small));
  const std::string head = "MESSAGE sip:a@b SIP/2.0\r\nl: 66\r\n\r\n";  // 34 bytes
  REQUIRE(head.size() == 34);
  CHECK(framed_length(head, small) == std::optional<std::size_t>(0));
  CHECK(framed_length(head + std::string(66, 'b'), small) == 100u);
  const std::string head67 = "MESSAGE sip:a@b SIP/2.0\r\nl: 67\r\n\r\n";
  CHECK_FALSE(framed_length(head67, small));  // 34 + 67 > 100: known as soon as the header is in
  std::string crlfs;
  for (int i = 0; i < 51; ++i) crlfs += "\r\n";
  CHECK_FALSE(framed_length(crlfs, small));
  CHECK(framed_length(crlfs.substr(2), small) == std::optional<std::size_t>(0));
  CHECK(framed_length(crlfs.substr(2) + m2, small) == 100 + m2.size());
  // A frame breaking other limits is still framed; parse_message then rejects it (400, not a close).
  parse_limits few;
  few.max_headers = 1;
  const std::string three = "MESSAGE sip:a@b SIP/2.0\r\nA: 1\r\nB: 2\r\nl: 0\r\n\r\n";
  CHECK(framed_length(three, few) == three.size());
  CHECK_FALSE(parse_message(three, few));
}

TEST_CASE("random_token: CSPRNG tokens of the asked length over [0-9a-z], distinct, unbiased", "[tspi][sip][message][sip_message]") {
  // Length and alphabet, including lengths past one RAND_bytes pool (96 bytes).
  for (std::size_t n : {0u, 1u, 10u, 16u, 20u, 95u, 200u}) {
    const auto t = random_token(n);
    CHECK(t.size() == n);
    CHECK(t.find_first_not_of("0123456789abcdefghijklmnopqrstuvwxyz") == std::string::npos);
  }
  // 20,000 16-character tokens (82 bits each): all distinct; every character uniform (chi-square over 36
  // letters, 35 degrees of freedom: mean 35, sd 8.4; 110 is p < 1e-9), and every position too.
  constexpr int count = 20000;
  std::set<std::string> seen;
  std::array<std::array<long, 36>, 16> per_position{};
  std::array<long, 36> all{};
  const auto index = [](char c) { return c <= '9' ? c - '0' : c - 'a' + 10; };
  const auto start = std::chrono::steady_clock::now();
  std::vector<std::string> tokens;
  tokens.reserve(count);
  for (int i = 0; i < count; ++i) tokens.push_back(random_token(16));
  const auto elapsed = std::chrono::steady_clock::now() - start;
  for (const auto& t : tokens) {
    seen.insert(t);
    for (std::size_t p = 0; p < t.size(); ++p) {
      ++per_position[p][static_cast<std::size_t>(index(t[p]))];
      ++all[static_cast<std::size_t>(index(t[p]))];
    }
  }
  CHECK(seen.size() == static_cast<std::size_t>(count));
  const auto chi2 = [](const auto& bins, double expected) {
    double x = 0;
    for (long b : bins) x += (static_cast<double>(b) - expected) * (static_cast<double>(b) - expected) / expected;
    return x;
  };
  const double overall = chi2(all, count * 16.0 / 36);
  CHECK(overall < 110);
  double worst = 0;
  for (const auto& bins : per_position) worst = std::max(worst, chi2(bins, count / 36.0));
  CHECK(worst < 130);  // the largest of 16 draws
  // A biased mapping (byte % 36 without rejection) gives letters 0-3 an 8/7 share: chi-square about 620 here.
  std::printf("random_token(16): %d distinct of %d; chi-square %.1f overall, worst position %.1f (35 dof); "
              "%.0f ns per token (RAND_bytes pooled 512 bytes at a time)\n",
              static_cast<int>(seen.size()), count, overall, worst,
              std::chrono::duration<double, std::nano>(elapsed).count() / count);
}

TEST_CASE("random_token: a forked child does not repeat its parent's tokens", "[tspi][sip][message][sip_message]") {
  (void)random_token(16);  // fill this thread's pool before the fork
  int fds[2];
  REQUIRE(::pipe(fds) == 0);
  const pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    const auto t = random_token(32);
    [[maybe_unused]] const auto w = ::write(fds[1], t.data(), t.size());
    ::_exit(0);
  }
  ::close(fds[1]);
  const auto mine = random_token(32);
  std::string theirs(32, '\0');
  std::size_t got = 0;
  while (got < theirs.size()) {
    const auto r = ::read(fds[0], theirs.data() + got, theirs.size() - got);
    if (r <= 0) break;
    got += static_cast<std::size_t>(r);
  }
  ::close(fds[0]);
  int status = 0;
  ::waitpid(child, &status, 0);
  REQUIRE(got == 32);
  CHECK(theirs != mine);
}
