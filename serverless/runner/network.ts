/** A pod's place on a network of its own: what a CNI plugin gives a kubelet's pod sandbox. */
export interface PodAttachment {
  /**
   * The pod's IP: its instance listens there on its container port (as in a cluster), the pod's
   * `status.podIP` says so, and Kubernetes' EndpointSlice controller publishes it.
   */
  address: string;
  /**
   * Words put before the handler's command to start it inside that network, e.g.
   * `['ip', 'netns', 'exec', 'pod-a']` (a launcher that execs, so signals reach the handler).
   */
  launcher: string[];
}

/**
 * Gives each pod of a {@link LocalRunner} a network of its own, the part a CNI plugin plays for a
 * kubelet. Without one the runner runs every instance on 127.0.0.1 on a port it picks, and pods
 * report 127.0.0.1 — which the API server refuses in EndpointSlices, so only the runner itself can
 * publish their endpoints (as `*.localhost` names). With one, a pod has a routable address of its
 * own, so a Service with a selector gets its slices from Kubernetes' own EndpointSlice controller.
 *
 * @example
 *   const runner = new LocalRunner({ kube, nodeName: 'netns-node', network: new NetnsPodNetwork() })
 */
export interface PodNetwork {
  /** Gives the pod its network; rejects with the reason when it cannot (the pod then waits). */
  attach(pod: { namespace: string; name: string; uid: string }): Promise<PodAttachment>;
  /** Takes the pod's network down once its instance has stopped; a pod not attached is no error. */
  detach(uid: string): Promise<void>;
}
