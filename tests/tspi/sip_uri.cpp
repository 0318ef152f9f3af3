// SIP URIs and name-addr values (tspi/sip/uri.hpp): RFC 3261 §19.1.3 examples, RFC 4475 URIs, RFC 5118
// IPv6 references, invalid forms, quoting of display names, and round trips.
#include <tspi/sip/detail/replaces.hpp>
#include <tspi/sip/uri.hpp>

#include <catch2/catch.hpp>

#include <string>
#include <string_view>

using namespace tspi::sip;

namespace {

uri uri_ok(std::string_view text) {
  auto u = parse_uri(text);
  INFO(text);
  REQUIRE(u);
  // Every URI that parses reads back equal from its own text.
  auto back = parse_uri(u->to_string());
  INFO(u->to_string());
  REQUIRE(back);
  CHECK(back->to_string() == u->to_string());
  CHECK(back->user == u->user);
  CHECK(back->password == u->password);
  CHECK(back->host == u->host);
  CHECK(back->port == u->port);
  CHECK(back->headers == u->headers);
  CHECK(back->params.size() == u->params.size());
  return *u;
}

name_addr na_ok(std::string_view text) {
  auto na = parse_name_addr(text);
  INFO(text);
  REQUIRE(na);
  auto back = parse_name_addr(na->to_string());
  INFO(na->to_string());
  REQUIRE(back);
  CHECK(back->display_name == na->display_name);
  CHECK(back->address.to_string() == na->address.to_string());
  CHECK(back->params.size() == na->params.size());
  CHECK(back->to_string() == na->to_string());
  return *na;
}

}  // namespace

TEST_CASE("RFC 3261 §19.1.3 example URIs", "[tspi][sip][uri]") {
  auto u = uri_ok("sip:alice@atlanta.com");
  CHECK(u.scheme == "sip");
  CHECK(u.user == "alice");
  CHECK(u.host == "atlanta.com");
  CHECK(u.port == 0);
  CHECK(u.port_or_default() == 5060);
  CHECK(u.to_string() == "sip:alice@atlanta.com");

  u = uri_ok("sip:alice:secretword@atlanta.com;transport=tcp");
  CHECK(u.password == "secretword");
  CHECK(u.param("transport") == "tcp");
  CHECK(u.param("TRANSPORT") == "tcp");
  CHECK_FALSE(u.param("lr"));

  u = uri_ok("sips:alice@atlanta.com?subject=project%20x&priority=urgent");
  CHECK(u.scheme == "sips");
  CHECK(u.port_or_default() == 5061);
  CHECK(u.headers == "subject=project%20x&priority=urgent");

  u = uri_ok("sip:+1-212-555-1212:1234@gateway.com;user=phone");
  CHECK(u.user == "+1-212-555-1212");
  CHECK(u.password == "1234");
  CHECK(u.param("user") == "phone");

  u = uri_ok("sips:1212@gateway.com");
  CHECK(u.user == "1212");
  u = uri_ok("sip:alice@192.0.2.4");
  CHECK(u.host == "192.0.2.4");

  u = uri_ok("sip:atlanta.com;method=REGISTER?to=alice%40atlanta.com");
  CHECK(u.user.empty());
  CHECK(u.host == "atlanta.com");
  CHECK(u.param("method") == "REGISTER");
  CHECK(u.headers == "to=alice%40atlanta.com");

  u = uri_ok("sip:alice;day=tuesday@atlanta.com");
  CHECK(u.user == "alice;day=tuesday");
  CHECK(u.host == "atlanta.com");
  CHECK(u.params.empty());

  u = uri_ok("SIP:Bob@Biloxi.COM:5070;LR");
  CHECK(u.scheme == "sip");
  CHECK(u.port == 5070);
  CHECK(u.host_port() == "Biloxi.COM:5070");
  CHECK(u.param("lr") == "");
  CHECK(u.to_string() == "sip:Bob@Biloxi.COM:5070;LR");
  CHECK(uri_ok("  sip:a@b  ").host == "b");
  CHECK(uri_ok("sip:host_with_underscore.example").host == "host_with_underscore.example");
}

TEST_CASE("RFC 4475 URIs: unusual characters, escapes, ',' and '?' in the user part", "[tspi][sip][uri]") {
  auto u = uri_ok("sip:1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*:&it+has=1,weird!*pas$wo~d_too.(doesn't-it)@example.com");
  CHECK(u.user == "1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*");
  CHECK(u.password == "&it+has=1,weird!*pas$wo~d_too.(doesn't-it)");
  CHECK(u.host == "example.com");
  CHECK(u.headers.empty());
  CHECK(u.params.empty());

  u = uri_ok("sip:sips%3Auser%40example.com@example.net");
  CHECK(u.user == "sips%3Auser%40example.com");
  CHECK(u.host == "example.net");
  u = uri_ok("sip:user;par=u%40example.net@example.com");
  CHECK(u.user == "user;par=u%40example.net");
  u = uri_ok("sip:null-%00-null@example.com");
  CHECK(u.user == "null-%00-null");
  u = uri_ok("sip:cal%6Cer@host5.example.net;%6C%72;n%61me=v%61lue%25%34%31");
  CHECK(u.param("%6C%72") == "");
  CHECK(u.param("n%61me") == "v%61lue%25%34%31");
  // '?' after the host starts the headers, also with a userinfo.
  u = uri_ok("sip:user@example.com?Route=%3Csip:example.com%3E");
  CHECK(u.host == "example.com");
  CHECK(u.headers == "Route=%3Csip:example.com%3E");
  u = uri_ok("sip:bob@biloxi.com;transport=tcp?Replaces=abc%40host%3Bto-tag%3D1");
  CHECK(u.param("transport") == "tcp");
  CHECK(u.headers == "Replaces=abc%40host%3Bto-tag%3D1");
}

TEST_CASE("RFC 5118 IPv6 references", "[tspi][sip][uri]") {
  auto u = uri_ok("sip:[2001:db8::10]");
  CHECK(u.host == "2001:db8::10");
  CHECK(u.port == 0);
  CHECK(u.host_port() == "[2001:db8::10]");
  CHECK(u.to_string() == "sip:[2001:db8::10]");
  u = uri_ok("sip:[2001:db8::10:5070]");  // §4.3 port-ambiguous: all of it is the address
  CHECK(u.host == "2001:db8::10:5070");
  CHECK(u.port == 0);
  u = uri_ok("sip:user@[2001:db8::10]:5070;transport=tcp");  // §4.4 port-unambiguous
  CHECK(u.host == "2001:db8::10");
  CHECK(u.port == 5070);
  CHECK(u.host_port() == "[2001:db8::10]:5070");
  u = uri_ok("sip:[::ffff:192.0.2.10]");  // §4.7 IPv4-mapped
  CHECK(u.host == "::ffff:192.0.2.10");
  u = uri_ok("sip:[2001:db8::192.0.2.1]");  // §4.8 IPv4 part
  CHECK(u.host == "2001:db8::192.0.2.1");
  u = uri_ok("sip:[::1]:5060");
  CHECK(u.host == "::1");

  for (const char* bad : {"sip:2001:db8::10",          // §4.1 ipv6-bad: no brackets
                          "sip:user@2001:db8::20",     // §4.2
                          "sip:[2001:db8::10",         // unterminated
                          "sip:[2001:db8::10]x", "sip:[2001:db8::10]:", "sip:[2001:db8::10]:0", "sip:[2001:db8::10]:70000",
                          "sip:[]", "sip:[abc]", "sip:[2001:db8::g]", "sip:[2001:db8::10%25eth0]", "sip:2001:db8:::5060"}) {
    INFO(bad);
    CHECK_FALSE(parse_uri(bad));
  }
}

TEST_CASE("invalid URIs are rejected", "[tspi][sip][uri]") {
  for (const char* bad : {"", "sip", "sip:", "sip:@host", "sip::pw@host", "tel:+12125551212", "http://example.com",
                          "nobodyknowsthisscheme:totallyopaquecontent", "sip:host:", "sip:host:0", "sip:host:65536",
                          "sip:host:99999999999", "sip:host:-1", "sip:host:+5", "sip:host:12a", "sip:host:5060:5060",
                          "sip:us er@host", "sip:user@ho st", "sip:user@host;transport=tcp x", "sip:user@<host>",
                          "sip:\"user\"@host", "sip:user@host>", "sip:user@host;bad name=1", "sip:user@host;=1",
                          "sip:user@ho$t", "sip:user@ho/st", "sip:user@", "sip:user@;lr", "sip:a@b@c", "sip:user\t@host",
                          "sip:user@host\r\nVia: x"}) {
    INFO(bad);
    CHECK_FALSE(parse_uri(bad));
  }
  CHECK(parse_uri("sip:" + std::string(1020, 'a')));  // 1024 bytes
  CHECK_FALSE(parse_uri("sip:" + std::string(1021, 'a')));
  CHECK(parse_uri("sip:h:65535")->port == 65535);
  CHECK(parse_uri("sip:h:1")->port == 1);
}

TEST_CASE("name-addr and addr-spec values", "[tspi][sip][uri]") {
  auto na = na_ok("\"Bob\" <sips:bob@biloxi.com>;tag=a48s");
  CHECK(na.display_name == "Bob");
  CHECK(na.address.scheme == "sips");
  CHECK(na.tag() == "a48s");
  CHECK(na.to_string() == "\"Bob\" <sips:bob@biloxi.com>;tag=a48s");

  // addr-spec: parameters after the URI belong to the header (RFC 3261 §20.10).
  na = na_ok("sip:+12125551212@phone2net.com;tag=887s");
  CHECK(na.display_name.empty());
  CHECK(na.address.params.empty());
  CHECK(na.tag() == "887s");
  CHECK(na.to_string() == "<sip:+12125551212@phone2net.com>;tag=887s");
  // name-addr: URI parameters stay inside the brackets.
  na = na_ok("Anonymous <sip:c8oqz84zk7z@privacy.org;transport=tcp>;tag=hyh8");
  CHECK(na.display_name == "Anonymous");
  CHECK(na.address.param("transport") == "tcp");
  CHECK(na.tag() == "hyh8");
  CHECK_FALSE(na.param("transport"));

  // Unquoted display names of several tokens, and none before '<' (RFC 4475 lwsdisp).
  CHECK(na_ok("Mr. Watson <sip:watson@worcester.bell-telephone.com>").display_name == "Mr. Watson");
  CHECK(na_ok("caller<sip:caller@example.com>;tag=323").display_name == "caller");
  CHECK(na_ok("<sip:a@b>").display_name.empty());
  // Quoted display names: escapes undone, '<' and ',' and ';' inside quotes are text.
  na = na_ok(R"("J Rosenberg \\\"" <sip:jdrosen@example.com> ; tag = 98asjd8)");
  CHECK(na.display_name == R"(J Rosenberg \")");
  CHECK(na.tag() == "98asjd8");
  CHECK(na.to_string() == R"("J Rosenberg \\\"" <sip:jdrosen@example.com>;tag=98asjd8)");
  na = na_ok(R"("a<b>, c;d" <sip:x@y>)");
  CHECK(na.display_name == "a<b>, c;d");
  CHECK(na.address.host == "y");
  CHECK(na_ok(R"("" <sip:x@y>)").display_name.empty());
  // Contact parameters with quoted values holding '<' (RFC 5626 +sip.instance), expires, q.
  na = na_ok(R"(<sip:alice@192.0.2.1:5060;ob>;+sip.instance="<urn:uuid:00000000-0000-1000-8000-AABBCCDDEEFF>";reg-id=1;expires=3600;q=0.7)");
  CHECK(na.address.param("ob") == "");
  CHECK(na.param("+sip.instance") == R"("<urn:uuid:00000000-0000-1000-8000-AABBCCDDEEFF>")");
  CHECK(na.param("expires") == "3600");
  CHECK(na.param("q") == "0.7");
  na = na_ok(R"(sip:alice@192.0.2.1;+sip.instance="<urn:uuid:1>")");
  CHECK(na.param("+sip.instance") == R"("<urn:uuid:1>")");
  // RFC 4475 badaspec and baddn are taken liberally (both allowed by the RFC).
  CHECK(na_ok(R"("Watson, Thomas" < sip:t.watson@example.org >)").address.user == "t.watson");
  na = na_ok("Bell, Alexander <sip:a.g.bell@example.com>;tag=433423");
  CHECK(na.display_name == "Bell, Alexander");

  na.set_param("tag", "x1");
  na.set_param("TAG", "x2");
  CHECK(na.tag() == "x2");
  CHECK(na.params.size() == 1);
  na.set_param("expires", "60");
  CHECK(na.to_string() == "\"Bell, Alexander\" <sip:a.g.bell@example.com>;tag=x2;expires=60");
}

TEST_CASE("display names are written so that they read back and never break the line", "[tspi][sip][uri]") {
  name_addr na;
  na.address = *parse_uri("sip:bob@biloxi.com");
  na.display_name = "Bob \"the\" \\Builder\\";
  CHECK(na.to_string() == R"("Bob \"the\" \\Builder\\" <sip:bob@biloxi.com>)");
  CHECK(parse_name_addr(na.to_string())->display_name == na.display_name);
  na.display_name = "evil\r\nVia: SIP/2.0/UDP attacker";
  const auto text = na.to_string();
  CHECK(text.find('\r') == std::string::npos);
  CHECK(text.find('\n') == std::string::npos);
  CHECK(parse_name_addr(text)->display_name == "evil  Via: SIP/2.0/UDP attacker");
  na.display_name = std::string("tab\tbel\x07", 8);
  CHECK(parse_name_addr(na.to_string())->display_name == na.display_name);
}

TEST_CASE("malformed name-addr values are rejected", "[tspi][sip][uri]") {
  for (const char* bad : {"\"Mr. J. User <sip:j.user@example.com>",  // RFC 4475 quotbal
                          "\"Mr. J. User\\\" <sip:j.user@example.com>", "isbn:2983792873",  // RFC 4475 unksm2
                          "<sip:a@b", "<sip:a@b>x", "<sip:a@b> x;tag=1", "<sip:a@b>;bad name=1", "<>", "", "Bob",
                          "\"Bob\" x <sip:a@b>", "Bo\"b <sip:a@b>", "<tel:+1234>", "<sip:a@b;x=<y>>",
                          "<sip:p1@h;lr, <sip:p2@h;lr>", "ctl\x01 <sip:a@b>", "\"a\r\nb\" <sip:a@b>"}) {
    INFO(bad);
    CHECK_FALSE(parse_name_addr(bad));
  }
  CHECK(parse_name_addr("sip:a@b;tag"));  // a flag parameter is fine
}

TEST_CASE("Replaces (RFC 3891 §6.1) is parsed strictly, and escaped into a Refer-To URI it reads back", "[tspi][sip][uri]") {
  using tspi::sip::detail::parse_replaces;
  const auto r = parse_replaces("98asjd8@host.example ; to-tag=12345;from-tag=abcde;early-only");
  REQUIRE(r);
  CHECK(r->call_id == "98asjd8@host.example");
  CHECK(r->to_tag == "12345");
  CHECK(r->from_tag == "abcde");
  CHECK(r->early_only);
  // Hostile or broken values: nothing to match against, so no dialog can be named by accident.
  CHECK_FALSE(parse_replaces(""));
  CHECK_FALSE(parse_replaces("callid;to-tag=1"));                      // no from-tag
  CHECK_FALSE(parse_replaces(";to-tag=1;from-tag=2"));                 // no Call-ID
  CHECK_FALSE(parse_replaces("callid;to-tag=;from-tag=2"));            // empty tag
  CHECK_FALSE(parse_replaces("callid;to-tag=1;from-tag=2;to-tag=3"));  // a repeated tag
  CHECK_FALSE(parse_replaces(std::string(100000, ';')));
  // Escaped for `?Replaces=` (RFC 3261 §19.1.1), the value carries no ';', '=', '@', '&' or '?'.
  const auto escaped = tspi::sip::detail::escape_uri_header("a@b;to-tag=x&y?z%");
  CHECK(escaped == "a%40b%3Bto-tag%3Dx%26y%3Fz%25");
  const auto u = tspi::sip::parse_uri("sip:carol@192.0.2.3:5060?Replaces=" + escaped);
  REQUIRE(u);
  CHECK(u->headers == "Replaces=" + escaped);
}
