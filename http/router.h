// The route table's dispatcher (internal to http/): finds a request's route
// by its path segments, answers 404 no_route and 405 (with Allow) from the
// table, checks path parameters and the tenant, authorises the caller by the
// route's access bits, then calls the route's handler.
//
// Thread-safety: immutable after construction; Dispatch may run on any
// thread.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "http/edge.h"

namespace saalbuch::http {

// Every route of the API: the topics' tables together.
std::vector<Route> AllRoutes();

class Router {
 public:
  // REQUIRES: no two routes with the same method and pattern.
  explicit Router(std::vector<Route> routes);
  Router(const Router&) = delete;
  Router& operator=(const Router&) = delete;

  // Answers `c` through `edge`: a handler, a preflight, 404 or 405.
  void Dispatch(Edge& edge, const CallPtr& c) const;

 private:
  struct Node {
    std::map<std::string, std::unique_ptr<Node>, std::less<>> literal;
    std::unique_ptr<Node> param;  // one "{name}" segment
    std::vector<const Route*> routes;
  };
  // The node of `segments`, literal segments before parameters; its
  // parameters' values into *params. nullptr when no pattern has this shape.
  const Node* Find(const Node& node, const std::vector<std::string>& segments, std::size_t at,
                   std::vector<std::string>* params) const;

  std::vector<Route> routes_;
  Node root_;
};

}  // namespace saalbuch::http
