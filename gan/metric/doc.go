// Package metric measures how good Tessera's generated textures are.
//
// It provides two numbers:
//
//   - MS-SWD, the multi-scale sliced Wasserstein distance of Karras, Aila, Laine and
//     Lehtinen, "Progressive Growing of GANs for Improved Quality, Stability, and
//     Variation", ICLR 2018 (section 5 and appendix D), computed like their reference
//     implementation metrics/sliced_wasserstein.py in tkarras/progressive_growing_of_gans.
//     Each image is split into a Laplacian pyramid (full resolution down to 16 px); from
//     every level 128 random 7x7 RGB patches per image are taken, normalised per colour
//     channel, and the two patch sets (real and generated) are compared with the sliced
//     Wasserstein distance along 512 random directions. A level's number says how far the
//     distribution of local structure at that scale is from the real one: the finest
//     level reacts to fine detail and noise, the 16 px level to colour and large shapes.
//     Like the paper, the numbers are multiplied by 1e3. Lower is better; 0 means the two
//     patch sets are identical. Values are only comparable for the same image count and
//     resolution, since sampling noise puts a floor under the distance of two finite sets
//     drawn from the same distribution.
//
//   - SeamScore, which checks that a texture tiles: the mean step across the wrap-around
//     edges divided by the mean step between neighbouring interior pixels. 1 means the
//     seams are invisible in this statistic; an ordinary photo crop scores well above 1.
package metric
