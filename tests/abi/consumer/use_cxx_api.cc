#include <minikafka/broker.h>

#include <iostream>

int main() {
  minikafka::broker broker;
  broker.start();
  broker.create_topic("orders", 3);
  std::cout << "C++ API: broker at " << broker.bootstrap() << ", " << broker.topics().size() << " topic\n";
  broker.stop();
  return broker.end_offsets("orders").size() == 3 ? 0 : 1;
}
