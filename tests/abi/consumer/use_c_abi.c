#include <minikafka/minikafka.h>
#include <stdio.h>

int main(void) {
  minikafka_broker *b = NULL;
  if (minikafka_create(NULL, &b) != MINIKAFKA_OK || minikafka_start(b) != MINIKAFKA_OK ||
      minikafka_topic_create(b, "orders", 3, NULL) != MINIKAFKA_OK) {
    fprintf(stderr, "minikafka: %s\n", minikafka_last_error());
    return 1;
  }
  printf("C ABI: broker at %s\n", minikafka_bootstrap(b));
  minikafka_destroy(b);
  return 0;
}
